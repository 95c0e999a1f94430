// The Swin executor. Each block runs on token rows [B * H * W, C]: a gather puts the (padded, rolled)
// tokens in window order, one matrix product makes q, k and v, a fused window attention adds the
// block's position bias and shift mask (added up once per input shape, the block's plan) to the logits,
// and a scatter puts the rows back; every linear layer accumulates into its bias, or into the residual
// plus bias, so neither takes a pass of its own.
#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <mutex>

#include "vision/backbones/swin.h"
#include "vision/backbones/swin_blocks.h"
#include "vision/inference/families.h"
#include "vision/nn/macs.h"

// The BLAS that LibTorch itself links: the fused attention calls it once per window and head.
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

namespace cvtk::vision {
namespace {

// Column-major C = alpha op(A) op(B) + beta C, as BLAS defines it.
void gemm(char ta, char tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
          float beta, float* c, int ldc) {
  sgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

// Scratch tensors the blocks share (they run one after another), kept across calls so that large
// intermediates do not arrive as fresh pages every time. A call that finds the workspace busy (the
// executor running on another thread) uses new tensors.
struct Workspace {
  std::mutex busy;
  torch::Tensor rows, qkv, logits, probs, attn, hidden;
};

// Hands out tensors of given sizes: slots of a workspace, or new tensors without one.
class Scratch {
 public:
  explicit Scratch(Workspace* ws) : ws_(ws) {}
  torch::Tensor get(torch::Tensor Workspace::*slot, at::IntArrayRef sizes, const torch::TensorOptions& options) {
    if (!ws_) return torch::empty(sizes, options);
    torch::Tensor& t = ws_->*slot;
    if (!t.defined() || t.device() != options.device()) {
      c10::InferenceMode normal(false);  // a normal tensor stays writable in and out of inference mode
      t = torch::empty(sizes, options);
    } else {
      t.resize_(sizes);  // reallocates only to grow
    }
    return t;
  }

 private:
  Workspace* ws_;
};

// Window attention straight from the qkv rows [windows * N, 3C] (window-major, tokens row-major,
// channels q | k | v, head-major inside each) to the output rows [windows * N, C] in the same order,
// with bias [1 or windows per image, heads, N, N] added to the scaled logits. ATen's batched matrix
// product would take a strided copy of q, k and v, loop over windows and heads one dispatch at a
// time, and need another copy to put the heads back side by side; here every product reads and
// writes its block in place, one window and head per task.
torch::Tensor fused_window_attention(const torch::Tensor& qkv, const torch::Tensor& bias, int64_t windows,
                                     int64_t heads, Scratch& scratch) {
  const int64_t N = bias.size(-1), C = qkv.size(1) / 3, d = C / heads, nb = bias.size(0);
  TORCH_CHECK(qkv.is_contiguous() && qkv.scalar_type() == torch::kFloat && qkv.size(0) == windows * N,
              "fused attention: bad qkv ", qkv.sizes());
  const float scale = static_cast<float>(std::pow(static_cast<double>(d), -0.5));
  const float* rows = qkv.data_ptr<float>();
  const float* b = bias.data_ptr<float>();
  torch::Tensor logits = scratch.get(&Workspace::logits, {windows, heads, N, N}, qkv.options());
  float* l = logits.data_ptr<float>();
  const int n = static_cast<int>(N), dd = static_cast<int>(d), ld = static_cast<int>(3 * C);
  at::parallel_for(0, windows * heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t w = t / heads, h = t % heads;
      float* s = l + t * N * N;
      std::memcpy(s, b + ((w % nb) * heads + h) * N * N, sizeof(float) * N * N);
      const float* q = rows + w * N * 3 * C + h * d;
      // Row-major s = scale q k^T + bias is column-major s^T = scale k q^T + bias^T.
      gemm('T', 'N', n, n, dd, scale, q + C, ld, q, ld, 1.0f, s, n);
    }
  });
  torch::Tensor probs = scratch.get(&Workspace::probs, {windows, heads, N, N}, qkv.options());
  at::_softmax_out(probs, logits, -1, false);
  const float* p = probs.data_ptr<float>();
  torch::Tensor out = scratch.get(&Workspace::attn, {windows * N, C}, qkv.options());
  float* o = out.data_ptr<float>();
  at::parallel_for(0, windows * heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t w = t / heads, h = t % heads;
      const float* v = rows + w * N * 3 * C + 2 * C + h * d;
      // Row-major out = p v is column-major out^T = v^T p^T.
      gemm('N', 'N', dd, n, n, 1.0f, v, ld, p + t * N * N, n, 0.0f, o + w * N * C + h * d, static_cast<int>(C));
    }
  });
  MacCounter::add(2 * windows * heads * N * N * d);
  return out;
}

// Where each window-order row of a block's attention comes from and goes to, for one input shape,
// with the position bias and shift mask added up.
struct Plan {
  int64_t batch = -1, height = -1, width = -1;
  int64_t windows = 0;    // batch * windows per image
  bool identity = false;  // window order is token order (one unshifted, unpadded window)
  bool padded = false;    // gather reads a zero row appended after the tokens
  torch::Tensor gather;   // [windows * N]: token row of each window-order row
  torch::Tensor scatter;  // [batch * H * W]: window-order row of each token
  torch::Tensor bias;     // [1 or windows per image, heads, N, N]
};

// The same pad, roll and partition as WindowAttention's forward, applied to token numbers.
Plan make_plan(const WindowAttentionImpl& attn, int64_t B, int64_t H, int64_t W) {
  const int64_t M = attn.window(), N = M * M, Hp = H + (M - H % M) % M, Wp = W + (M - W % M) % M;
  const int64_t sh = attn.shift_for(Hp), sw = attn.shift_for(Wp), nW = (Hp / M) * (Wp / M);
  const auto longs = torch::TensorOptions().dtype(torch::kLong).device(attn.bias_table.device());
  Plan p;
  p.batch = B;
  p.height = H;
  p.width = W;
  p.windows = B * nW;
  p.padded = Hp != H || Wp != W;
  auto grid = torch::full({Hp, Wp}, H * W, longs);  // H * W marks padding
  grid.slice(0, 0, H).slice(1, 0, W).copy_(torch::arange(H * W, longs).view({H, W}));
  if (sh + sw > 0) grid = torch::roll(grid, {-sh, -sw}, {0, 1});
  const auto order = grid.view({Hp / M, M, Wp / M, M}).permute({0, 2, 1, 3}).reshape({-1});
  p.identity = !p.padded && nW == 1 && sh + sw == 0;
  const auto image = torch::arange(B, longs).view({B, 1});
  p.gather =
      (order.view({1, -1}) + image * (H * W)).masked_fill_(order.view({1, -1}) == H * W, B * H * W).reshape({-1});
  const auto valid = order < H * W;
  auto inverse = torch::empty({H * W}, longs);
  inverse.index_put_({order.masked_select(valid)}, torch::arange(nW * N, longs).masked_select(valid));
  p.scatter = (inverse.view({1, -1}) + image * (nW * N)).reshape({-1});
  const auto bias = attn.position_bias();
  p.bias = sh + sw > 0
               ? (bias.unsqueeze(0) + swin_shift_mask(M, Hp, Wp, sh, sw, bias.options()).unsqueeze(1)).contiguous()
               : bias.unsqueeze(0).contiguous();
  return p;
}

class SwinExecutor final : public BackboneExecutor {
 public:
  explicit SwinExecutor(std::shared_ptr<SwinImpl> net) : BackboneExecutor(net), net_(net.get()) {}

 protected:
  void build() override {
    blocks_.clear();
    for (const auto& m : net_->modules(/*include_self=*/false))
      if (auto* block = dynamic_cast<SwinBlockImpl*>(m.get())) blocks_.push_back({block, Plan{}});
  }
  FeatureMaps run_features(const torch::Tensor& x) override {
    FeatureMaps maps;
    run(x, &maps);
    return maps;
  }
  torch::Tensor run_forward(const torch::Tensor& x) override {
    return counted(net_->head, net_->norm->forward(run(x, nullptr)).mean({1, 2}));
  }

 private:
  struct Block {
    SwinBlockImpl* module;
    Plan plan;  // for the last input shape
  };

  torch::Tensor run(const torch::Tensor& x, FeatureMaps* maps) {
    std::unique_lock<std::mutex> lock(workspace_.busy, std::try_to_lock);
    Scratch scratch(lock.owns_lock() ? &workspace_ : nullptr);
    torch::Tensor y = net_->patch_norm->forward(counted(net_->patch_embed, x).permute({0, 2, 3, 1}));
    static const char* kNames[] = {"c2", "c3", "c4", "c5"};
    const auto& layers = net_->layers();
    size_t block = 0;
    int stage = 0;
    for (size_t i = 1; i < layers->size(); ++i) {
      if (auto seq = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(layers->ptr(i))) {
        for (size_t j = 0; j < seq->size(); ++j) y = run_block(blocks_.at(block++), y.contiguous(), scratch);
        if (maps) maps->emplace_back(kNames[stage], y.permute({0, 3, 1, 2}));
        ++stage;
      } else {
        y = layers->ptr(i)->as<PatchMergingImpl>()->forward(y);
      }
    }
    return y;
  }

  static torch::Tensor run_block(Block& block, const torch::Tensor& x, Scratch& scratch) {
    auto& b = *block.module;
    if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat) {
      // No fused attention off CPU float: the block's layers in eval semantics (its forward would apply
      // stochastic depth if the module were training).
      const torch::Tensor y = x + b.attn->forward(b.norm1->forward(x));
      return y + b.mlp->forward(b.norm2->forward(y));
    }
    const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3), T = B * H * W;
    auto& p = block.plan;
    if (p.batch != B || p.height != H || p.width != W) p = make_plan(*b.attn, B, H, W);
    torch::Tensor tokens = b.norm1->forward(x).view({T, C}), rows = tokens;
    if (p.padded) tokens = torch::cat({tokens, torch::zeros({1, C}, tokens.options())});
    if (!p.identity) {
      rows = scratch.get(&Workspace::rows, {p.gather.size(0), C}, x.options());
      at::index_select_out(rows, tokens, 0, p.gather);
    }
    torch::Tensor qkv = scratch.get(&Workspace::qkv, {rows.size(0), 3 * C}, x.options());
    at::addmm_out(qkv, b.attn->qkv->bias, rows, b.attn->qkv->weight.t());
    torch::Tensor a = fused_window_attention(qkv, p.bias, p.windows, b.attn->heads(), scratch);
    if (!p.identity) a = a.index_select(0, p.scatter);
    torch::Tensor y = (x + b.attn->proj->bias).view({T, C});
    y.addmm_(a, b.attn->proj->weight.t());
    const auto& fc1 = *b.mlp[0]->as<torch::nn::Linear>();
    const auto& fc2 = *b.mlp[3]->as<torch::nn::Linear>();
    torch::Tensor h = scratch.get(&Workspace::hidden, {T, fc1.weight.size(0)}, x.options());
    at::addmm_out(h, fc1.bias, b.norm2->forward(y).view({T, C}), fc1.weight.t());
    at::gelu_(h);
    torch::Tensor out = y + fc2.bias;
    out.addmm_(h, fc2.weight.t());
    MacCounter::add(rows.size(0) * 3 * C * C + T * (C * C + 2 * fc1.weight.size(0) * C));
    return out.view({B, H, W, C});
  }

  SwinImpl* net_;
  std::vector<Block> blocks_;
  Workspace workspace_;
};

}  // namespace

std::unique_ptr<BackboneExecutor> swin_executor(const Backbone& backbone) {
  auto net = std::dynamic_pointer_cast<SwinImpl>(backbone);
  if (!net) return nullptr;
  return std::make_unique<SwinExecutor>(std::move(net));
}

}  // namespace cvtk::vision

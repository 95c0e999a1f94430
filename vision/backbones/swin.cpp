#include "vision/backbones/swin.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

#include "vision/nn/init.h"
#include "vision/nn/layers.h"
#include "vision/nn/macs.h"
#include "vision/nn/tracked.h"

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

// Window attention straight from the qkv rows [windows * N, 3C] (window-major, tokens row-major,
// channels q | k | v, head-major inside each) to the output rows [windows * N, C] in the same order,
// with bias [1 or windows per image, heads, N, N] added to the scaled logits. ATen's batched matrix
// product would take a strided copy of q, k and v, loop over windows and heads one dispatch at a
// time, and need another copy to put the heads back side by side; here every product reads and
// writes its block in place, one window and head per task.
// Scratch tensors that the prepared blocks of one model share (they run one after another), kept
// across forwards so that large intermediates do not arrive as fresh pages every time. A forward that
// finds the workspace busy (the same model running on another thread) or grad mode on uses new tensors.
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
    if (!t.defined()) {
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

// Holds the place of torchvision's Permute in features.0 so the LayerNorm keeps the key features.0.2.
class PermuteImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x) { return x.permute({0, 2, 3, 1}); }
};
TORCH_MODULE(Permute);

torch::Tensor stochastic_depth(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  const double survival = 1 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  auto keep = torch::empty(shape, x.options()).bernoulli_(survival);
  if (survival > 0) keep.div_(survival);
  return x * keep;
}

class WindowAttentionImpl : public torch::nn::Module {
 public:
  WindowAttentionImpl(int64_t dim, int64_t window, int64_t shift, int64_t heads)
      : dim_(dim), window_(window), shift_(shift), heads_(heads) {
    qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
    proj = register_module("proj", torch::nn::Linear(dim, dim));
    bias_table =
        register_parameter("relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), heads}));
    trunc_normal_(bias_table, 0, 0.02, -2, 2);
    // index(i, j) = (hi - hj + M - 1) * (2M - 1) + (wi - wj + M - 1) for tokens i, j of a window.
    auto coords =
        torch::stack(torch::meshgrid({torch::arange(window), torch::arange(window)}, "ij")).flatten(1);  // [2, N]
    auto rel = (coords.unsqueeze(2) - coords.unsqueeze(1)).permute({1, 2, 0}).contiguous() + (window - 1);
    auto index = rel.select(2, 0) * (2 * window - 1) + rel.select(2, 1);
    position_index = register_buffer("relative_position_index", index.flatten());
  }

  // Where each window-order row of a block's attention comes from and goes to, for one input shape,
  // with the position bias and shift mask added up: built once per shape in eval after preparation.
  struct Plan {
    int64_t batch = -1, height = -1, width = -1;
    int64_t windows = 0;    // batch * windows per image
    bool identity = false;  // window order is token order (one unshifted, unpadded window)
    bool padded = false;    // gather reads a zero row appended after the tokens
    torch::Tensor gather;   // [windows * N]: token row of each window-order row
    torch::Tensor scatter;  // [batch * H * W]: window-order row of each token
    torch::Tensor bias;     // [1 or windows per image, heads, N, N]
  };

  const Plan& plan(int64_t B, int64_t H, int64_t W) {
    if (plan_.batch == B && plan_.height == H && plan_.width == W && !plan_sources_.changed()) return plan_;
    torch::NoGradGuard no_grad;
    const int64_t M = window_, N = M * M, Hp = H + (M - H % M) % M, Wp = W + (M - W % M) % M;
    const int64_t sh = M >= Hp ? 0 : shift_, sw = M >= Wp ? 0 : shift_, nW = (Hp / M) * (Wp / M);
    const auto longs = torch::TensorOptions().dtype(torch::kLong);
    Plan p;
    p.batch = B;
    p.height = H;
    p.width = W;
    p.windows = B * nW;
    p.padded = Hp != H || Wp != W;
    // The same pad, roll and partition as forward, applied to token numbers (H * W marks padding).
    auto grid = torch::full({Hp, Wp}, H * W, longs);
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
    auto bias = bias_table.index_select(0, position_index).view({N, N, heads_}).permute({2, 0, 1});
    if (sh + sw > 0)
      p.bias = (bias.unsqueeze(0) + shift_mask(Hp, Wp, sh, sw, bias.options()).unsqueeze(1)).contiguous();
    else
      p.bias = bias.unsqueeze(0).contiguous();
    plan_ = std::move(p);
    plan_sources_.track({bias_table, position_index});
    return plan_;
  }

  // [nW, N, N]: 0 where two tokens of a window come from the same region of the rolled map, else -100.
  torch::Tensor shift_mask(int64_t Hp, int64_t Wp, int64_t sh, int64_t sw, const torch::TensorOptions& options) const {
    const int64_t M = window_, N = M * M, nW = (Hp / M) * (Wp / M);
    auto mask = torch::zeros({Hp, Wp}, options);
    const int64_t hs[4] = {0, Hp - M, Hp - sh, Hp}, ws[4] = {0, Wp - M, Wp - sw, Wp};
    int64_t label = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        mask.slice(0, hs[i], hs[i + 1]).slice(1, ws[j], ws[j + 1]).fill_(static_cast<double>(label++));
    mask = mask.view({Hp / M, M, Wp / M, M}).permute({0, 2, 1, 3}).reshape({nW, N});
    mask = mask.unsqueeze(1) - mask.unsqueeze(2);
    return torch::where(mask != 0, torch::full({}, -100.0, mask.options()), torch::zeros({}, mask.options()));
  }

  int64_t heads() const { return heads_; }

  // x: [B, H, W, C] -> [B, H, W, C]
  torch::Tensor forward(const torch::Tensor& input) {
    const int64_t B = input.size(0), H = input.size(1), W = input.size(2), C = input.size(3), M = window_;
    const int64_t pad_r = (M - W % M) % M, pad_b = (M - H % M) % M;
    torch::Tensor x = torch::constant_pad_nd(input, {0, 0, 0, pad_r, 0, pad_b});
    const int64_t Hp = x.size(1), Wp = x.size(2);
    const int64_t sh = M >= Hp ? 0 : shift_, sw = M >= Wp ? 0 : shift_;
    if (sh + sw > 0) x = torch::roll(x, {-sh, -sw}, {1, 2});
    const int64_t nW = (Hp / M) * (Wp / M), N = M * M;
    x = x.view({B, Hp / M, M, Wp / M, M, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B * nW, N, C});
    auto q_k_v = counted(qkv, x).reshape({B * nW, N, 3, heads_, C / heads_}).permute({2, 0, 3, 1, 4});
    auto q = q_k_v[0] * std::pow(static_cast<double>(C / heads_), -0.5);
    auto k = q_k_v[1], v = q_k_v[2];
    auto attn = counted_matmul(q, k.transpose(-2, -1));
    auto bias = bias_table.index_select(0, position_index).view({N, N, heads_}).permute({2, 0, 1}).unsqueeze(0);
    attn = attn + bias;
    if (sh + sw > 0) {
      const auto mask = shift_mask(Hp, Wp, sh, sw, x.options());
      attn = attn.view({B, nW, heads_, N, N}) + mask.unsqueeze(1).unsqueeze(0);
      attn = attn.view({-1, heads_, N, N});
    }
    attn = torch::softmax(attn, -1);
    x = counted_matmul(attn, v).transpose(1, 2).reshape({B * nW, N, C});
    x = counted(proj, x);
    x = x.view({B, Hp / M, Wp / M, M, M, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B, Hp, Wp, C});
    if (sh + sw > 0) x = torch::roll(x, {sh, sw}, {1, 2});
    return x.slice(1, 0, H).slice(2, 0, W).contiguous();
  }

  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  torch::Tensor bias_table, position_index;

 private:
  int64_t dim_, window_, shift_, heads_;
  Plan plan_;
  TensorVersions plan_sources_;
};
TORCH_MODULE(WindowAttention);

class SwinBlockImpl : public torch::nn::Module, public InferenceFoldable {
 public:
  SwinBlockImpl(int64_t dim, int64_t heads, int64_t window, int64_t shift, double mlp_ratio, double drop_path)
      : drop_path_(drop_path) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    attn = register_module("attn", WindowAttention(dim, window, shift, heads));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    const int64_t hidden = static_cast<int64_t>(dim * mlp_ratio);
    mlp = register_module(
        "mlp", torch::nn::Sequential(torch::nn::Linear(dim, hidden), torch::nn::GELU(), torch::nn::Dropout(0.0),
                                     torch::nn::Linear(hidden, dim), torch::nn::Dropout(0.0)));
  }
  torch::Tensor forward(torch::Tensor x) {
    if (prepared_ && !is_training() && !tracked(*this, x)) return forward_prepared(x.contiguous());
    x = x + stochastic_depth(attn->forward(norm1->forward(x)), drop_path_, is_training());
    return x + stochastic_depth(counted(mlp, norm2->forward(x)), drop_path_, is_training());
  }

  // No BatchNorm to fold: switches eval forwards to forward_prepared.
  int fold_for_inference(bool) override {
    prepared_ = true;
    return 0;
  }
  void share_workspace(std::shared_ptr<Workspace> ws) { workspace_ = std::move(ws); }

  // The eval forward on token rows [B * H * W, C]: the window gather, attention and scatter of the
  // plan; every linear layer as one matrix product whose accumulator starts from its bias, or from the
  // residual plus bias, so bias and residual additions take no pass of their own.
  torch::Tensor forward_prepared(const torch::Tensor& x) {
    const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3), T = B * H * W;
    const auto& p = attn->plan(B, H, W);
    std::unique_lock<std::mutex> lock;
    if (workspace_ && !torch::GradMode::is_enabled())
      lock = std::unique_lock<std::mutex>(workspace_->busy, std::try_to_lock);
    Scratch scratch(lock.owns_lock() ? workspace_.get() : nullptr);
    torch::Tensor tokens = norm1->forward(x).view({T, C}), rows = tokens;
    if (p.padded) tokens = torch::cat({tokens, torch::zeros({1, C}, tokens.options())});
    if (!p.identity) {
      rows = scratch.get(&Workspace::rows, {p.gather.size(0), C}, x.options());
      at::index_select_out(rows, tokens, 0, p.gather);
    }
    torch::Tensor qkv = scratch.get(&Workspace::qkv, {rows.size(0), 3 * C}, x.options());
    at::addmm_out(qkv, attn->qkv->bias, rows, attn->qkv->weight.t());
    torch::Tensor a = fused_window_attention(qkv, p.bias, p.windows, attn->heads(), scratch);
    if (!p.identity) a = a.index_select(0, p.scatter);
    torch::Tensor y = (x + attn->proj->bias).view({T, C});
    y.addmm_(a, attn->proj->weight.t());
    const auto& fc1 = *mlp[0]->as<torch::nn::Linear>();
    const auto& fc2 = *mlp[3]->as<torch::nn::Linear>();
    torch::Tensor h = scratch.get(&Workspace::hidden, {T, fc1.weight.size(0)}, x.options());
    at::addmm_out(h, fc1.bias, norm2->forward(y).view({T, C}), fc1.weight.t());
    at::gelu_(h);
    torch::Tensor out = y + fc2.bias;
    out.addmm_(h, fc2.weight.t());
    MacCounter::add(rows.size(0) * 3 * C * C + T * (C * C + 2 * fc1.weight.size(0) * C));
    return out.view({B, H, W, C});
  }
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};
  torch::nn::Sequential mlp{nullptr};

 private:
  double drop_path_;
  bool prepared_ = false;
  std::shared_ptr<Workspace> workspace_;
};
TORCH_MODULE(SwinBlock);

class PatchMergingImpl : public torch::nn::Module {
 public:
  explicit PatchMergingImpl(int64_t dim) {
    reduction = register_module("reduction", torch::nn::Linear(torch::nn::LinearOptions(4 * dim, 2 * dim).bias(false)));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4 * dim})));
  }
  // [B, H, W, C] -> [B, ceil(H/2), ceil(W/2), 2C]; the sub-grids in (row, col) offsets (0,0), (1,0),
  // (0,1), (1,1), the order torchvision's weights expect.
  torch::Tensor forward(const torch::Tensor& input) {
    auto x = torch::constant_pad_nd(input, {0, 0, 0, input.size(2) % 2, 0, input.size(1) % 2});
    using torch::indexing::Slice;
    auto x0 = x.index({Slice(), Slice(0, None, 2), Slice(0, None, 2)});
    auto x1 = x.index({Slice(), Slice(1, None, 2), Slice(0, None, 2)});
    auto x2 = x.index({Slice(), Slice(0, None, 2), Slice(1, None, 2)});
    auto x3 = x.index({Slice(), Slice(1, None, 2), Slice(1, None, 2)});
    return counted(reduction, norm->forward(torch::cat({x0, x1, x2, x3}, -1)));
  }
  torch::nn::Linear reduction{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  static constexpr c10::nullopt_t None = c10::nullopt;
};
TORCH_MODULE(PatchMerging);

}  // namespace

SwinConfig swin_config(const std::string& size) {
  SwinConfig c;
  c.name = "swin_" + size;
  if (size == "t") {
  } else if (size == "s") {
    c.depths = {2, 2, 18, 2};
    c.stochastic_depth = 0.3;
  } else if (size == "b") {
    c.embed_dim = 128;
    c.depths = {2, 2, 18, 2};
    c.heads = {4, 8, 16, 32};
    c.stochastic_depth = 0.5;
  } else {
    throw std::invalid_argument("swin: unknown size '" + size + "' (t, s or b)");
  }
  return c;
}

SwinImpl::SwinImpl(SwinConfig config, const BackboneOptions& options) : config_(std::move(config)) {
  if (options.stochastic_depth >= 0) config_.stochastic_depth = options.stochastic_depth;
  const int64_t C = config_.embed_dim;
  features_ = torch::nn::ModuleList();
  stem = torch::nn::ModuleList(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, C, 4).stride(4)), Permute(),
                               torch::nn::LayerNorm(torch::nn::LayerNormOptions({C})));
  features_->push_back(stem);
  int64_t total = 0, block = 0;
  for (int64_t d : config_.depths) total += d;
  for (size_t s = 0; s < config_.depths.size(); ++s) {
    const int64_t dim = C << s;
    torch::nn::Sequential stage;
    for (int64_t j = 0; j < config_.depths[s]; ++j, ++block) {
      const double p = config_.stochastic_depth * static_cast<double>(block) / static_cast<double>(total - 1);
      stage->push_back(
          SwinBlock(dim, config_.heads[s], config_.window, j % 2 == 0 ? 0 : config_.window / 2, config_.mlp_ratio, p));
    }
    features_->push_back(stage);
    if (s + 1 < config_.depths.size()) features_->push_back(PatchMerging(dim));
  }
  register_module("features", features_);
  const int64_t last = C << (config_.depths.size() - 1);
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({last})));
  if (options.with_classifier) head = register_module("head", torch::nn::Linear(last, options.num_classes));
  init_swin(*this);
}

std::vector<FeatureSpec> SwinImpl::feature_specs() const {
  const int64_t C = config_.embed_dim;
  return {{"c2", C, 4}, {"c3", 2 * C, 8}, {"c4", 4 * C, 16}, {"c5", 8 * C, 32}};
}

torch::Tensor SwinImpl::run(const torch::Tensor& x, FeatureMaps* maps) {
  auto conv = stem[0]->as<torch::nn::Conv2d>();
  torch::nn::Conv2d holder(std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(stem->ptr(0)));
  torch::Tensor y = counted(holder, x).permute({0, 2, 3, 1});
  y = stem[2]->as<torch::nn::LayerNorm>()->forward(y);
  static const char* kNames[] = {"c2", "c3", "c4", "c5"};
  int stage = 0;
  for (size_t i = 1; i < features_->size(); ++i) {
    if (auto seq = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(features_->ptr(i))) {
      for (auto& m : *seq) y = m.forward(y);
      if (maps) maps->emplace_back(kNames[stage], y.permute({0, 3, 1, 2}));
      ++stage;
    } else {
      y = features_[i]->as<PatchMerging>()->forward(y);
    }
  }
  (void)conv;
  return y;
}

int SwinImpl::prepare_for_inference() {
  eval();
  auto ws = std::make_shared<Workspace>();
  for (auto& m : modules(/*include_self=*/false))
    if (auto block = std::dynamic_pointer_cast<SwinBlockImpl>(m)) block->share_workspace(ws);
  return fuse_for_inference(*this);
}

FeatureMaps SwinImpl::features(const torch::Tensor& x) {
  FeatureMaps maps;
  run(x, &maps);
  return maps;
}

torch::Tensor SwinImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(!head.is_empty(), config_.name, ": built without a classifier");
  torch::Tensor y = norm->forward(run(x, nullptr));
  return counted(head, y.mean({1, 2}));
}

}  // namespace cvtk::vision

// The ShuffleNetV2 / SNet executor: every BatchNorm folded, pixel-major maps throughout, and units run
// as fused passes. Each unit writes the channel order the next unit reads (torchvision: the groups=2
// shuffle; Megvii: even channels first, so the next stride-1 unit's even/odd split is two channel
// ranges read in place), so no unit copies its input halves. Megvii units (SNet): the branches' closing
// 1x1 layers are packed products (packed_gemm.h) that write, with bias and ReLU, straight into their
// channels of the unit's output, and the pass-through half is one strided copy: no concatenation pass.
// torchvision units: the closing concatenation applies the branches' pending epilogues and the shuffle.
// The stem runs as a direct convolution on the image as it comes (direct_conv.h).
#include <ATen/record_function.h>

#include "vision/backbones/shufflenet_v2.h"
#include "vision/inference/families.h"
#include "vision/kernels/channel_concat.h"
#include "vision/kernels/direct_conv.h"
#include "vision/kernels/max_pool.h"
#include "vision/nn/blocks.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {

// A Megvii unit's closing 1x1 layers packed to write straight into the unit's output, each channel at
// the position the next unit reads it from, so no concatenation pass runs: built when the branches are
// the expected folded steps (main: 1x1, depthwise, 1x1; proj: depthwise, 1x1).
struct MegviiPasses {
  PackedWeights proj, main;        // proj: stride-2 units only
  std::vector<int64_t> pass_cols;  // stride-1 units: output column of each pass-through channel
  bool defined() const { return main.defined(); }
};

struct Unit {
  ShuffleUnitOptions options;
  FoldedSequential proj, main;  // proj undefined (no steps) for stride-1 units
  MegviiPasses passes;
};

// Where channel i of the unit's concatenation (C channels) goes: out_split writes the even channels first,
// then the odd ones (the next stride-1 unit reads its halves in place), else the ordinary order.
int64_t output_column(int64_t i, int64_t c, bool out_split) { return out_split ? (i % 2 ? c / 2 + i / 2 : i / 2) : i; }

MegviiPasses megvii_passes(const Unit& u, bool out_split) {
  const auto& m = u.main;
  const bool stride_one = u.options.stride == 1;
  const bool shapes =
      m.size() == 3 && m.all_folded() && m.step(0).pointwise() && m.step(1).depthwise() && m.step(2).pointwise() &&
      (stride_one ||
       (u.proj.size() == 2 && u.proj.all_folded() && u.proj.step(0).depthwise() && u.proj.step(1).pointwise()));
  const int64_t c = u.options.oup;
  if (!shapes || (out_split && c % 2)) return {};
  const int64_t first = stride_one ? c / 2 : u.options.inp;  // channels before the main branch's
  auto columns = [&](int64_t begin, int64_t count) {
    std::vector<int64_t> cols;
    for (int64_t i = begin; i < begin + count; ++i) cols.push_back(output_column(i, c, out_split));
    return cols;
  };
  const auto& last = m.step(2);
  if (last.weight().size(0) != c - first) return {};
  MegviiPasses p;
  p.main = PackedWeights(last.weight(), last.bias(), columns(first, c - first));
  if (stride_one) {
    p.pass_cols = columns(0, first);
  } else {
    const auto& proj = u.proj.step(1);
    if (proj.weight().size(0) != first) return {};
    p.proj = PackedWeights(proj.weight(), proj.bias(), columns(0, first));
  }
  return p;
}

// A Megvii unit by its packed passes (x: CPU float, pixel-major; see unit_fused for the orders).
torch::Tensor unit_megvii(const Unit& u, const torch::Tensor& x) {
  const auto& m = u.main;
  const bool stride_one = u.options.stride == 1;
  const int64_t c = x.size(1), half = c / 2, out_c = u.options.oup;
  const torch::Tensor t =
      m.step(1).forward(PendingMap{m.step(0).forward(stride_one ? x.narrow(1, half, c - half) : x), {}}).finish();
  TORCH_CHECK(t.is_contiguous(torch::MemoryFormat::ChannelsLast), "shuffle executor: expected a pixel-major map");
  const int64_t n = t.size(0), oh = t.size(2), ow = t.size(3), rows = n * oh * ow;
  auto out = torch::empty({n, out_c, oh, ow}, t.options().memory_format(torch::MemoryFormat::ChannelsLast));
  if (stride_one) {
    int64_t ldx = 0;
    TORCH_CHECK(pixel_rows(x, &ldx), "shuffle executor: expected a pixel-major map");
    scatter_channels(x.data_ptr<float>(), ldx, rows, half, u.passes.pass_cols.data(), out.data_ptr<float>(), out_c);
  } else {
    const auto& dw = u.proj.step(0);
    const torch::Tensor p = dw.forward(PendingMap{x, {}}).finish();
    TORCH_CHECK(p.is_contiguous(torch::MemoryFormat::ChannelsLast), "shuffle executor: expected a pixel-major map");
    u.passes.proj.run(p.data_ptr<float>(), p.size(1), rows, u.proj.step(1).relu(), out.data_ptr<float>(), out_c);
    MacCounter::add(rows * u.passes.proj.k() * u.passes.proj.n());
  }
  u.passes.main.run(t.data_ptr<float>(), t.size(1), rows, m.step(2).relu(), out.data_ptr<float>(), out_c);
  MacCounter::add(rows * u.passes.main.k() * u.passes.main.n());
  return out;
}

// A unit on any device and layout with torch ops: the module's forward with folded branches.
torch::Tensor unit_generic(const Unit& u, const torch::Tensor& x) {
  const bool torchvision = u.options.flavour == ShuffleFlavour::kTorchvision;
  torch::Tensor out;
  if (u.options.stride == 2) {
    out = torch::cat({u.proj.forward(x), u.main.forward(x)}, 1);
  } else if (torchvision) {
    const auto halves = x.chunk(2, 1);
    out = torch::cat({halves[0], u.main.forward(halves[1])}, 1);
  } else {
    out = torch::cat({x.slice(1, 0, x.size(1), 2), u.main.forward(x.slice(1, 1, x.size(1), 2))}, 1);
  }
  return torchvision ? vision::channel_shuffle(out, 2) : out;
}

// A unit on a pixel-major CPU float map. Megvii flavour: in_split says x holds its channels even-first
// then odd (as written with out_split), which only stride-1 units take; the torchvision flavour keeps
// the ordinary order.
torch::Tensor unit_fused(const Unit& u, const torch::Tensor& x, bool in_split, bool out_split) {
  if (u.passes.defined()) return unit_megvii(u, x);  // built for this unit's place: in_split, out_split
  const int64_t c = x.size(1);
  const bool stride_one = u.options.stride == 1;
  // Stride 1: the first half passes through (torchvision: the first half; Megvii: the even channels,
  // which in_split put first); the second half feeds the main branch.
  const PendingMap proj = stride_one ? PendingMap{x.narrow(1, 0, c / 2), {}} : u.proj.forward_pending(x);
  const PendingMap main = u.main.forward_pending(stride_one ? x.narrow(1, c / 2, c - c / 2) : x);
  ChannelOrder order = ChannelOrder::kInterleave;
  if (u.options.flavour == ShuffleFlavour::kMegvii) {
    TORCH_CHECK(in_split == stride_one, "shuffle executor: stride-", u.options.stride, " Megvii units take ",
                stride_one ? "even-first" : "ordinary", " channel order");
    order = out_split ? ChannelOrder::kDeinterleave : ChannelOrder::kConcat;
  }
  return concat_channels(proj.value, proj.epilogue, main.value, main.epilogue, order);
}

class ShuffleNetExecutor final : public BackboneExecutor {
 public:
  explicit ShuffleNetExecutor(std::shared_ptr<ShuffleNetV2Impl> net) : BackboneExecutor(net), net_(net.get()) {}

 protected:
  void build() override {
    conv1_ = FoldedSequential(net_->conv1);
    conv5_ = net_->conv5.is_empty() ? FoldedSequential() : FoldedSequential(net_->conv5);
    stages_.clear();
    for (const auto* stage : {&net_->stage2, &net_->stage3, &net_->stage4}) {
      std::vector<Unit> units;
      for (const auto& m : **stage) {
        const auto& unit = *m.ptr()->as<ShuffleUnitImpl>();
        const auto& proj = unit.branch_proj();
        units.push_back({unit.options(),
                         proj && !proj->is_empty() ? FoldedSequential(proj) : FoldedSequential(),
                         FoldedSequential(unit.branch_main()),
                         {}});
      }
      if (net_->config().flavour == ShuffleFlavour::kMegvii)
        for (size_t i = 0; i < units.size(); ++i)
          units[i].passes = megvii_passes(units[i], i + 1 < units.size() && units[i + 1].options.stride == 1);
      stages_.push_back(std::move(units));
    }
  }

  FeatureMaps run_features(const torch::Tensor& input) override {
    // The stem's direct convolution reads the image in any layout; elsewhere it goes pixel-major first.
    const bool direct =
        conv1_.size() && conv1_.step(0).defined() && conv1_.step(0).direct() && direct_conv_takes(input);
    const torch::Tensor x = input.dim() == 4 && !direct ? input.contiguous(torch::MemoryFormat::ChannelsLast) : input;
    FeatureMaps maps;
    torch::Tensor y;
    {
      RECORD_FUNCTION("shufflenet::stem", std::vector<c10::IValue>());  // named in profiles (--profile)
      y = conv1_.forward(x);
    }
    {
      RECORD_FUNCTION("shufflenet::pool", std::vector<c10::IValue>());
      y = max_pool2d(y, 3, 2, 1);
    }
    maps.emplace_back("c2", y);
    static const char* kNames[] = {"c3", "c4", "c5"};
    static const char* kStages[] = {"shufflenet::stage2", "shufflenet::stage3", "shufflenet::stage4"};
    for (size_t s = 0; s < stages_.size(); ++s) {
      RECORD_FUNCTION(kStages[s], std::vector<c10::IValue>());
      y = run_stage(stages_[s], y);
      if (s + 1 < stages_.size()) maps.emplace_back(kNames[s], y);
    }
    if (conv5_.size()) {
      RECORD_FUNCTION("shufflenet::conv5", std::vector<c10::IValue>());
      y = conv5_.forward(y);
    }
    maps.emplace_back("c5", y);
    return maps;
  }

  torch::Tensor run_forward(const torch::Tensor& x) override {
    return counted(net_->fc, run_features(x).back().second.mean({2, 3}));
  }

 private:
  static torch::Tensor run_stage(const std::vector<Unit>& units, const torch::Tensor& x) {
    // Every unit's output is pixel-major float, so checking x suffices. A stage opening with a stride-1
    // unit (none in ShuffleNet or SNet) would hand it the ordinary channel order: it runs generically.
    const bool fused = !units.empty() && units.front().options.stride == 2 && x.device().is_cpu() &&
                       x.scalar_type() == torch::kFloat && pixel_rows(x);
    torch::Tensor y = x;
    for (size_t i = 0; i < units.size(); ++i) {
      if (!fused) {
        y = unit_generic(units[i], y);
        continue;
      }
      const bool next_takes_split = i + 1 < units.size() && units[i + 1].options.stride == 1;
      y = unit_fused(units[i], y, i > 0 && units[i].options.stride == 1, next_takes_split);
    }
    return y;
  }

  ShuffleNetV2Impl* net_;
  FoldedSequential conv1_, conv5_;
  std::vector<std::vector<Unit>> stages_;
};

}  // namespace

std::unique_ptr<BackboneExecutor> shufflenet_executor(const Backbone& backbone) {
  auto net = std::dynamic_pointer_cast<ShuffleNetV2Impl>(backbone);
  if (!net) return nullptr;
  return std::make_unique<ShuffleNetExecutor>(std::move(net));
}

}  // namespace cvtk::vision

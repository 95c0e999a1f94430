// The ShuffleNetV2 / SNet executor: every BatchNorm folded, pixel-major maps throughout, and units run
// as fused passes. A unit's branches end in a 1x1 layer whose bias and ReLU stay pending until the
// closing concatenation applies them, and that concatenation writes the channel order the next unit
// reads (torchvision: the groups=2 shuffle; Megvii: even channels first, so the next stride-1 unit's
// even/odd split is two channel ranges read in place), so no unit copies its input halves.
#include "vision/backbones/shufflenet_v2.h"
#include "vision/inference/families.h"
#include "vision/kernels/channel_concat.h"
#include "vision/kernels/max_pool.h"
#include "vision/nn/blocks.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {

struct Unit {
  ShuffleUnitOptions options;
  FoldedSequential proj, main;  // proj undefined (no steps) for stride-1 units
};

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
        units.push_back({unit.options(), proj && !proj->is_empty() ? FoldedSequential(proj) : FoldedSequential(),
                         FoldedSequential(unit.branch_main())});
      }
      stages_.push_back(std::move(units));
    }
  }

  FeatureMaps run_features(const torch::Tensor& input) override {
    const torch::Tensor x = input.dim() == 4 ? input.contiguous(torch::MemoryFormat::ChannelsLast) : input;
    FeatureMaps maps;
    torch::Tensor y = max_pool2d(conv1_.forward(x), 3, 2, 1);
    maps.emplace_back("c2", y);
    static const char* kNames[] = {"c3", "c4", "c5"};
    for (size_t s = 0; s < stages_.size(); ++s) {
      y = run_stage(stages_[s], y);
      if (s + 1 < stages_.size()) maps.emplace_back(kNames[s], y);
    }
    if (conv5_.size()) y = conv5_.forward(y);
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

#include "vision/backbones/shufflenet_v2.h"

#include "vision/nn/blocks.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {

using torch::nn::BatchNorm2d;
using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;
using torch::nn::ReLU;

Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t groups = 1) {
  return Conv2d(Conv2dOptions(in, out, k).stride(stride).padding(k / 2).groups(groups).bias(false));
}

}  // namespace

ShuffleUnitImpl::ShuffleUnitImpl(const ShuffleUnitOptions& o) : o_(o) {
  TORCH_CHECK(o.stride == 1 || o.stride == 2, "shuffle unit: stride must be 1 or 2, got ", o.stride);
  const int64_t k = o.kernel;
  if (o.flavour == ShuffleFlavour::kTorchvision) {
    const int64_t bf = o.oup / 2;
    TORCH_CHECK(o.stride == 2 || o.inp == 2 * bf, "shuffle unit: stride-1 units need inp == oup, got ", o.inp, " and ",
                o.oup);
    proj_ = torch::nn::Sequential();
    if (o.stride == 2)
      proj_ = torch::nn::Sequential(conv(o.inp, o.inp, k, 2, o.inp), BatchNorm2d(o.inp), conv(o.inp, bf, 1),
                                    BatchNorm2d(bf), ReLU());
    const int64_t in_main = o.stride == 2 ? o.inp : bf;
    main_ = torch::nn::Sequential(conv(in_main, bf, 1), BatchNorm2d(bf), ReLU(), conv(bf, bf, k, o.stride, bf),
                                  BatchNorm2d(bf), conv(bf, bf, 1), BatchNorm2d(bf), ReLU());
    register_module("branch1", proj_);
    register_module("branch2", main_);
  } else {
    const int64_t mid = o.oup / 2;
    if (o.stride == 2) {
      proj_ = torch::nn::Sequential(conv(o.inp, o.inp, k, 2, o.inp), BatchNorm2d(o.inp), conv(o.inp, o.inp, 1),
                                    BatchNorm2d(o.inp), ReLU());
      register_module("branch_proj", proj_);
      main_ = torch::nn::Sequential(conv(o.inp, mid, 1), BatchNorm2d(mid), ReLU(), conv(mid, mid, k, 2, mid),
                                    BatchNorm2d(mid), conv(mid, o.oup - o.inp, 1), BatchNorm2d(o.oup - o.inp), ReLU());
    } else {
      TORCH_CHECK(o.inp == o.oup && o.oup % 2 == 0, "shuffle unit: stride-1 units need inp == oup (even), got ", o.inp,
                  " and ", o.oup);
      main_ = torch::nn::Sequential(conv(mid, mid, 1), BatchNorm2d(mid), ReLU(), conv(mid, mid, k, 1, mid),
                                    BatchNorm2d(mid), conv(mid, mid, 1), BatchNorm2d(mid), ReLU());
    }
    register_module("branch_main", main_);
  }
}

torch::Tensor ShuffleUnitImpl::forward(const torch::Tensor& x) {
  if (o_.flavour == ShuffleFlavour::kTorchvision) {
    torch::Tensor out;
    if (o_.stride == 1) {
      auto halves = x.chunk(2, 1);
      out = torch::cat({halves[0], counted(main_, halves[1])}, 1);
    } else {
      out = torch::cat({counted(proj_, x), counted(main_, x)}, 1);
    }
    return cvtk::vision::channel_shuffle(out, 2);
  }
  if (o_.stride == 2) return torch::cat({counted(proj_, x), counted(main_, x)}, 1);
  // Even channels pass through, odd ones feed the main branch; a strided view in either memory format.
  auto pass = x.slice(1, 0, x.size(1), 2), main = x.slice(1, 1, x.size(1), 2);
  return torch::cat({pass, counted(main_, main)}, 1);
}

ShuffleNetV2Impl::ShuffleNetV2Impl(ShuffleNetV2Config config, const BackboneOptions& options)
    : config_(std::move(config)) {
  const auto& ch = config_.channels;
  TORCH_CHECK(ch.size() == 4 && config_.repeats.size() == 3, "shufflenet: need 4 channel widths and 3 stage repeats");
  conv1 = register_module("conv1", torch::nn::Sequential(conv(3, ch[0], 3, 2), BatchNorm2d(ch[0]), ReLU()));
  torch::nn::Sequential* stages[3] = {&stage2, &stage3, &stage4};
  int64_t in = ch[0];
  for (int s = 0; s < 3; ++s) {
    torch::nn::Sequential seq;
    for (int64_t u = 0; u < config_.repeats[s]; ++u)
      seq->push_back(ShuffleUnit(
          ShuffleUnitOptions{u == 0 ? in : ch[s + 1], ch[s + 1], u == 0 ? 2 : 1, config_.kernel, config_.flavour}));
    *stages[s] = register_module("stage" + std::to_string(s + 2), seq);
    in = ch[s + 1];
  }
  if (config_.conv5 > 0)
    conv5 =
        register_module("conv5", torch::nn::Sequential(conv(in, config_.conv5, 1), BatchNorm2d(config_.conv5), ReLU()));
  if (options.with_classifier) {
    const int64_t c5 = config_.conv5 > 0 ? config_.conv5 : in;
    fc = register_module("fc",
                         torch::nn::Linear(torch::nn::LinearOptions(c5, options.num_classes).bias(config_.fc_bias)));
  }
}

std::vector<FeatureSpec> ShuffleNetV2Impl::feature_specs() const {
  const auto& ch = config_.channels;
  return {{"c2", ch[0], 4}, {"c3", ch[1], 8}, {"c4", ch[2], 16}, {"c5", config_.conv5 > 0 ? config_.conv5 : ch[3], 32}};
}

FeatureMaps ShuffleNetV2Impl::features(const torch::Tensor& x) {
  FeatureMaps maps;
  auto y = torch::max_pool2d(counted(conv1, x), 3, 2, 1);
  maps.emplace_back("c2", y);
  y = counted(stage2, y);
  maps.emplace_back("c3", y);
  y = counted(stage3, y);
  maps.emplace_back("c4", y);
  y = counted(stage4, y);
  if (!conv5.is_empty()) y = counted(conv5, y);
  maps.emplace_back("c5", y);
  return maps;
}

torch::Tensor ShuffleNetV2Impl::forward(const torch::Tensor& x) {
  TORCH_CHECK(!fc.is_empty(), config_.name, ": built without a classifier");
  auto y = features(x).back().second.mean({2, 3});
  if (config_.dropout > 0) y = torch::dropout(y, config_.dropout, is_training());
  return counted(fc, y);
}

ShuffleNetV2Config shufflenet_v2_config(const std::string& width) {
  ShuffleNetV2Config c;
  c.name = "shufflenet_v2_x" + width;
  c.conv5 = 1024;
  if (width == "0_5")
    c.channels = {24, 48, 96, 192};
  else if (width == "1_0")
    c.channels = {24, 116, 232, 464};
  else if (width == "1_5")
    c.channels = {24, 176, 352, 704};
  else if (width == "2_0") {
    c.channels = {24, 244, 488, 976};
    c.conv5 = 2048;
  } else {
    throw std::invalid_argument("shufflenet_v2: unknown width '" + width + "' (0_5, 1_0, 1_5, 2_0)");
  }
  return c;
}

}  // namespace cvtk::vision

#include "vision/backbones/backbone.h"

#include "vision/nn/layers.h"

namespace cvtk::vision {

torch::Tensor BackboneImpl::pick(const FeatureMaps& maps, const std::string& name) {
  std::string names;
  for (const auto& [n, t] : maps) {
    if (n == name) return t;
    names += (names.empty() ? "" : ", ") + n;
  }
  throw std::invalid_argument("no feature map '" + name + "' (available: " + names + ")");
}

int BackboneImpl::prepare_for_inference() {
  eval();
  channels_last_ = true;
  return fuse_for_inference(*this, /*channels_last=*/true);
}

torch::Tensor BackboneImpl::inference_input(const torch::Tensor& x) const {
  return channels_last_ && !is_training() && x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

}  // namespace cvtk::vision

#include "detection/ema.h"

#include <cmath>

namespace cvtk::detection {

ModelEma::ModelEma(const torch::nn::Module& model, double decay, double ramp) : decay_(decay), ramp_(ramp) {
  for (auto& [name, t] : vision::state_dict(model)) state_.emplace_back(name, t.detach().clone());
}

void ModelEma::update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  ++updates_;
  const double d = decay_ * (1 - std::exp(-double(updates_) / ramp_));
  auto current = vision::state_dict(model);
  for (size_t i = 0; i < state_.size(); ++i) {
    auto& e = state_[i].second;
    const auto& m = current[i].second;
    if (e.is_floating_point())
      e.mul_(d).add_(m.detach(), 1 - d);
    else
      e.copy_(m);
  }
}

}  // namespace cvtk::detection

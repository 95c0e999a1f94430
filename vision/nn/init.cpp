#include "vision/nn/init.h"

namespace cvtk::vision {

void trunc_normal_(torch::Tensor t, double mean, double std, double a, double b) {
  torch::NoGradGuard no_grad;
  t.normal_(mean, std);
  for (int i = 0; i < 100; ++i) {
    auto outside = (t < a) | (t > b);
    if (!outside.any().item<bool>()) return;
    t.masked_scatter_(outside, torch::empty_like(t).normal_(mean, std).masked_select(outside));
  }
  t.clamp_(a, b);
}

void init_megvii(torch::nn::Module& module, const std::string& first_conv) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_modules("", /*include_self=*/false)) {
    if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(item.value())) {
      const bool first = item.key() + ".weight" == first_conv;
      c->weight.normal_(0, first ? 0.01 : 1.0 / c->weight.size(1));
      if (c->bias.defined()) c->bias.zero_();
    } else if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(item.value())) {
      bn->weight.fill_(1);
      bn->bias.fill_(1e-4);
      bn->running_mean.zero_();
    } else if (auto l = std::dynamic_pointer_cast<torch::nn::LinearImpl>(item.value())) {
      l->weight.normal_(0, 0.01);
      if (l->bias.defined()) l->bias.zero_();
    }
  }
}

void init_truncated_normal(torch::nn::Module& module, double std) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_modules("", /*include_self=*/false)) {
    if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(item.value()))
      trunc_normal_(c->weight, 0, std, -2, 2);
    else if (auto l = std::dynamic_pointer_cast<torch::nn::LinearImpl>(item.value()))
      trunc_normal_(l->weight, 0, std, -2, 2);
    else if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(item.value())) {
      bn->weight.fill_(1);
      bn->bias.zero_();
    }
  }
}

void init_swin(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_modules("", /*include_self=*/false)) {
    if (auto l = std::dynamic_pointer_cast<torch::nn::LinearImpl>(item.value())) {
      trunc_normal_(l->weight, 0, 0.02, -2, 2);
      if (l->bias.defined()) l->bias.zero_();
    } else if (auto n = std::dynamic_pointer_cast<torch::nn::LayerNormImpl>(item.value())) {
      n->weight.fill_(1);
      n->bias.zero_();
    }
  }
}

}  // namespace cvtk::vision

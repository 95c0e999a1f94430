#include "detection/train_optimizer.h"

#include <stdexcept>

namespace cvtk::detection {

namespace {

template <class Optimizer, class Options>
std::unique_ptr<torch::optim::Optimizer> two_groups(std::vector<torch::Tensor> decay,
                                                    std::vector<torch::Tensor> no_decay, const Options& base,
                                                    double weight_decay) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::move(decay), std::make_unique<Options>(Options(base).weight_decay(weight_decay)));
  groups.emplace_back(std::move(no_decay), std::make_unique<Options>(Options(base).weight_decay(0)));
  return std::make_unique<Optimizer>(std::move(groups), base);
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(ThunderNet& model, const TrainOptions& o) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model->parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() > 1 ? decay : no_decay).push_back(p);
  }
  if (o.optimizer == "adamw")
    return two_groups<torch::optim::AdamW>(
        decay, no_decay, torch::optim::AdamWOptions(o.schedule.base).betas({o.momentum, 0.999}), o.weight_decay);
  if (o.optimizer != "sgd") throw std::invalid_argument("--optimizer " + o.optimizer + ": must be sgd or adamw");
  return two_groups<torch::optim::SGD>(decay, no_decay, torch::optim::SGDOptions(o.schedule.base).momentum(o.momentum),
                                       o.weight_decay);
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& g : optimizer.param_groups()) g.options().set_lr(lr);
}

}  // namespace cvtk::detection

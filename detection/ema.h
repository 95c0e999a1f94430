#pragma once
// Exponential moving average of a model's parameters and buffers, the weights validation and the saved
// "best" model use when enabled. The decay ramps up as decay * (1 - exp(-updates / 2000)) so early,
// still-random weights fade out quickly (the YOLOv5-style ramp).
#include <torch/torch.h>

#include <vector>

#include "vision/nn/weights.h"

namespace cvtk::detection {

class ModelEma {
 public:
  ModelEma(const torch::nn::Module& model, double decay);
  void update(const torch::nn::Module& model);
  // The averaged tensors under the model's names, for saving or for copying into a model.
  const vision::StateDict& state() const { return state_; }
  vision::StateDict& state() { return state_; }
  long updates() const { return updates_; }
  void set_updates(long n) { updates_ = n; }
  double decay() const { return decay_; }

 private:
  double decay_;
  long updates_ = 0;
  vision::StateDict state_;
};

}  // namespace cvtk::detection

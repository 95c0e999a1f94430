#pragma once
// Exponential moving average of a model's parameters and buffers, the weights validation and the saved
// "best" model use when enabled. The decay ramps up as decay * (1 - exp(-updates / ramp)) so early,
// still-random weights fade out quickly (the YOLOv5-style ramp; 2000 updates unless told).
#include <torch/torch.h>

#include <vector>

#include "vision/nn/weights.h"

namespace cvtk::detection {

class ModelEma {
 public:
  ModelEma(const torch::nn::Module& model, double decay, double ramp = 2000);
  void update(const torch::nn::Module& model);
  // The averaged tensors under the model's names, for saving or for copying into a model.
  const vision::StateDict& state() const { return state_; }
  vision::StateDict& state() { return state_; }
  long updates() const { return updates_; }
  void set_updates(long n) { updates_ = n; }
  double decay() const { return decay_; }
  // A --time plan changes the run's length and with it an unset EMA's horizon (train_defaults.h).
  void set_decay(double decay, double ramp) {
    decay_ = decay;
    ramp_ = ramp;
  }

 private:
  double decay_;
  double ramp_;
  long updates_ = 0;
  vision::StateDict state_;
};

}  // namespace cvtk::detection

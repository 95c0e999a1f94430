#pragma once
// The optimiser a training run uses, from its options: SGD with momentum or AdamW, in two parameter
// groups: weight decay on weights with more than one dimension, none on biases and normalisation
// parameters (the authors' recipe). AdamW's decay is decoupled from the gradient (Loshchilov &
// Hutter), so the same --weight-decay pulls much harder than SGD's; 0.05 is usual there.
#include <memory>

#include "detection/thundernet.h"
#include "detection/train_options.h"

namespace cvtk::detection {

// Only parameters that require a gradient (frozen stages are left out).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(ThunderNet& model, const TrainOptions& options);

// The learning rate of every group.
void set_lr(torch::optim::Optimizer& optimizer, double lr);

}  // namespace cvtk::detection

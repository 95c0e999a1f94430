#include "vision/inference/backbone_executor.h"

#include <stdexcept>
#include <typeinfo>

#include "vision/inference/families.h"
#include "vision/nn/tracked.h"

namespace cvtk::vision {

void BackboneExecutor::check(const torch::Tensor& x) {
  if (tracked(*module_, x))
    throw std::logic_error(
        "inference executor: autograd would record this call (grad mode is on and the input or a parameter "
        "requires grad); executors are eval-only: run the module itself for gradients, or hold a "
        "torch::NoGradGuard");
  if (sources_.changed()) rebuild();
}

FeatureMaps BackboneExecutor::features(const torch::Tensor& x) {
  check(x);
  torch::NoGradGuard no_grad;  // nothing would be recorded (check); this keeps it so inside the executor
  return run_features(x);
}

torch::Tensor BackboneExecutor::forward(const torch::Tensor& x) {
  if (!module_->has_classifier())
    throw std::invalid_argument("inference executor: the backbone was built without a classifier");
  check(x);
  torch::NoGradGuard no_grad;
  return run_forward(x);
}

void BackboneExecutor::rebuild() {
  torch::NoGradGuard no_grad;
  build();
  sources_.take(module_tensors(*module_));
}

std::unique_ptr<BackboneExecutor> optimize_for_inference(const Backbone& backbone) {
  if (!backbone) throw std::invalid_argument("optimize_for_inference: no backbone");
  using Family = std::unique_ptr<BackboneExecutor> (*)(const Backbone&);
  static const Family kFamilies[] = {shufflenet_executor, conv_bn_executor, swin_executor};
  for (Family family : kFamilies)
    if (auto executor = family(backbone)) {
      executor->rebuild();
      return executor;
    }
  throw std::invalid_argument(std::string("optimize_for_inference: no executor for backbone type ") +
                              typeid(*backbone).name());
}

}  // namespace cvtk::vision

#include "vision/backbones/model_info.h"

#include "vision/backbones/registry.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

ModelInfo model_info(const std::string& name, int64_t input_size) {
  BackboneOptions o;
  o.aux_logits = false;  // counted models are the inference graph
  Backbone net = create_backbone(name, o);
  net->eval();
  ModelInfo info;
  info.name = name;
  info.input_size = input_size > 0 ? input_size : net->default_input_size();
  {
    BackboneOptions with_aux;
    info.parameters = parameter_count(*create_backbone(name, with_aux));
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::zeros({1, 3, info.input_size, info.input_size});
  MacCounter counter;
  net->forward(x);
  info.macs = counter.macs();
  const FeatureMaps maps = net->features(x);
  for (const auto& spec : net->feature_specs()) {
    const torch::Tensor m = BackboneImpl::pick(maps, spec.name);
    info.features.push_back({spec, m.size(2), m.size(3)});
  }
  return info;
}

}  // namespace cvtk::vision

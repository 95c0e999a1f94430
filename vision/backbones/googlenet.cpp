#include "vision/backbones/googlenet.h"

#include "vision/backbones/inception_v3.h"
#include "vision/nn/init.h"
#include "vision/nn/blocks.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {

ConvBnRelu basic(int64_t in, int64_t out, int64_t k, int64_t s = 1, int64_t p = 0) {
  return ConvBnRelu(ConvBnReluOptions{in, out, {k, k}, {s, s}, {p, p}, 0.001});
}

torch::nn::MaxPool2d pool(int64_t k, int64_t s, int64_t p = 0) {
  return torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(k).stride(s).padding(p).ceil_mode(true));
}

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int64_t in, int64_t c1, int64_t c3r, int64_t c3, int64_t c5r, int64_t c5, int64_t pp) {
    b1 = register_module("branch1", basic(in, c1, 1));
    b2 = register_module("branch2", torch::nn::Sequential(basic(in, c3r, 1), basic(c3r, c3, 3, 1, 1)));
    b3 = register_module("branch3", torch::nn::Sequential(basic(in, c5r, 1), basic(c5r, c5, 3, 1, 1)));
    b4 = register_module("branch4", torch::nn::Sequential(pool(3, 1, 1), basic(in, pp, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b1(x), b2->forward(x), b3->forward(x), b4->forward(x)}, 1);
  }
  ConvBnRelu b1{nullptr};
  torch::nn::Sequential b2{nullptr}, b3{nullptr}, b4{nullptr};
};
TORCH_MODULE(Block);

class AuxImpl : public torch::nn::Module {
 public:
  AuxImpl(int64_t in, int64_t num_classes) {
    conv = register_module("conv", basic(in, 128, 1));
    fc1 = register_module("fc1", torch::nn::Linear(2048, 1024));
    fc2 = register_module("fc2", torch::nn::Linear(1024, num_classes));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = conv(torch::adaptive_avg_pool2d(x, {4, 4})).flatten(1);
    y = torch::dropout(torch::relu(counted(fc1, y)), 0.7, is_training());
    return counted(fc2, y);
  }
  ConvBnRelu conv{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Aux);

}  // namespace

GoogLeNetImpl::GoogLeNetImpl(const BackboneOptions& options) : options_(options) {
  auto add = [&](const std::string& name, auto module) {
    register_module(name, module);
    layers_.emplace_back(name, torch::nn::AnyModule(module));
  };
  add("conv1", basic(3, 64, 7, 2, 3));
  add("maxpool1", pool(3, 2));
  add("conv2", basic(64, 64, 1));
  add("conv3", basic(64, 192, 3, 1, 1));
  add("maxpool2", pool(3, 2));
  add("inception3a", Block(192, 64, 96, 128, 16, 32, 32));
  add("inception3b", Block(256, 128, 128, 192, 32, 96, 64));
  add("maxpool3", pool(3, 2));
  add("inception4a", Block(480, 192, 96, 208, 16, 48, 64));
  add("inception4b", Block(512, 160, 112, 224, 24, 64, 64));
  add("inception4c", Block(512, 128, 128, 256, 24, 64, 64));
  add("inception4d", Block(512, 112, 144, 288, 32, 64, 64));
  add("inception4e", Block(528, 256, 160, 320, 32, 128, 128));
  add("maxpool4", pool(2, 2));
  add("inception5a", Block(832, 256, 160, 320, 32, 128, 128));
  add("inception5b", Block(832, 384, 192, 384, 48, 128, 128));
  if (options.with_classifier && options.aux_logits) {
    Aux a1(512, options.num_classes), a2(528, options.num_classes);
    register_module("aux1", a1);
    register_module("aux2", a2);
    aux1_ = torch::nn::AnyModule(a1);
    aux2_ = torch::nn::AnyModule(a2);
  }
  if (options.with_classifier) fc = register_module("fc", torch::nn::Linear(1024, options.num_classes));
  init_truncated_normal(*this, 0.01);
}

std::vector<FeatureSpec> GoogLeNetImpl::feature_specs() const {
  return {{"c2", 192, 4}, {"c3", 480, 8}, {"c4", 832, 16}, {"c5", 1024, 32}};
}

torch::Tensor GoogLeNetImpl::run(const torch::Tensor& input, FeatureMaps* maps, torch::Tensor* aux1,
                                 torch::Tensor* aux2) {
  torch::Tensor x = options_.transform_input ? inception_transform_input(input) : input;
  const bool aux = is_training() && !aux1_.is_empty();
  for (auto& [name, m] : layers_) {
    x = m.forward(x);
    if (!maps && !aux1) continue;
    if (maps && name == "conv3") maps->emplace_back("c2", x);
    if (maps && name == "inception3b") maps->emplace_back("c3", x);
    if (maps && name == "inception4e") maps->emplace_back("c4", x);
    if (aux && aux1 && name == "inception4a") *aux1 = aux1_.forward(x);
    if (aux && aux2 && name == "inception4d") *aux2 = aux2_.forward(x);
  }
  if (maps) maps->emplace_back("c5", x);
  return x;
}

FeatureMaps GoogLeNetImpl::features(const torch::Tensor& x) {
  FeatureMaps maps;
  run(x, &maps, nullptr, nullptr);
  return maps;
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> GoogLeNetImpl::forward_with_aux(const torch::Tensor& x) {
  TORCH_CHECK(!fc.is_empty(), "googlenet: built without a classifier");
  torch::Tensor a1, a2;
  auto y = torch::adaptive_avg_pool2d(run(x, nullptr, &a1, &a2), {1, 1}).flatten(1);
  y = torch::dropout(y, 0.2, is_training());
  return {counted(fc, y), a1, a2};
}

torch::Tensor GoogLeNetImpl::forward(const torch::Tensor& x) { return std::get<0>(forward_with_aux(x)); }

}  // namespace cvtk::vision

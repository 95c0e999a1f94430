#include "vision/backbones/inception_v3.h"

#include "vision/nn/init.h"
#include "vision/nn/blocks.h"
#include "vision/nn/macs.h"
#include "vision/kernels/max_pool.h"

namespace cvtk::vision {
namespace {

constexpr double kBnEps = 0.001;  // torchvision's BasicConv2d

ConvBnRelu basic(int64_t in, int64_t out, std::vector<int64_t> k, std::vector<int64_t> s = {1, 1},
                 std::vector<int64_t> p = {0, 0}) {
  if (k.size() == 1) k = {k[0], k[0]};
  if (s.size() == 1) s = {s[0], s[0]};
  if (p.size() == 1) p = {p[0], p[0]};
  return ConvBnRelu(ConvBnReluOptions{in, out, k, s, p, kBnEps});
}

torch::Tensor avg3(const torch::Tensor& x) { return torch::avg_pool2d(x, 3, 1, 1); }
torch::Tensor max3s2(const torch::Tensor& x) { return vision::max_pool2d(x, 3, 2, 0); }

class InceptionAImpl : public torch::nn::Module {
 public:
  InceptionAImpl(int64_t in, int64_t pool) {
    b1 = register_module("branch1x1", basic(in, 64, {1}));
    b5_1 = register_module("branch5x5_1", basic(in, 48, {1}));
    b5_2 = register_module("branch5x5_2", basic(48, 64, {5}, {1}, {2}));
    d1 = register_module("branch3x3dbl_1", basic(in, 64, {1}));
    d2 = register_module("branch3x3dbl_2", basic(64, 96, {3}, {1}, {1}));
    d3 = register_module("branch3x3dbl_3", basic(96, 96, {3}, {1}, {1}));
    bp = register_module("branch_pool", basic(in, pool, {1}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b1(x), b5_2(b5_1(x)), d3(d2(d1(x))), bp(avg3(x))}, 1);
  }
  ConvBnRelu b1{nullptr}, b5_1{nullptr}, b5_2{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr}, bp{nullptr};
};
TORCH_MODULE(InceptionA);

class InceptionBImpl : public torch::nn::Module {
 public:
  explicit InceptionBImpl(int64_t in) {
    b3 = register_module("branch3x3", basic(in, 384, {3}, {2}));
    d1 = register_module("branch3x3dbl_1", basic(in, 64, {1}));
    d2 = register_module("branch3x3dbl_2", basic(64, 96, {3}, {1}, {1}));
    d3 = register_module("branch3x3dbl_3", basic(96, 96, {3}, {2}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return torch::cat({b3(x), d3(d2(d1(x))), max3s2(x)}, 1); }
  ConvBnRelu b3{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr};
};
TORCH_MODULE(InceptionB);

class InceptionCImpl : public torch::nn::Module {
 public:
  InceptionCImpl(int64_t in, int64_t c7) {
    b1 = register_module("branch1x1", basic(in, 192, {1}));
    s1 = register_module("branch7x7_1", basic(in, c7, {1}));
    s2 = register_module("branch7x7_2", basic(c7, c7, {1, 7}, {1}, {0, 3}));
    s3 = register_module("branch7x7_3", basic(c7, 192, {7, 1}, {1}, {3, 0}));
    d1 = register_module("branch7x7dbl_1", basic(in, c7, {1}));
    d2 = register_module("branch7x7dbl_2", basic(c7, c7, {7, 1}, {1}, {3, 0}));
    d3 = register_module("branch7x7dbl_3", basic(c7, c7, {1, 7}, {1}, {0, 3}));
    d4 = register_module("branch7x7dbl_4", basic(c7, c7, {7, 1}, {1}, {3, 0}));
    d5 = register_module("branch7x7dbl_5", basic(c7, 192, {1, 7}, {1}, {0, 3}));
    bp = register_module("branch_pool", basic(in, 192, {1}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b1(x), s3(s2(s1(x))), d5(d4(d3(d2(d1(x))))), bp(avg3(x))}, 1);
  }
  ConvBnRelu b1{nullptr}, s1{nullptr}, s2{nullptr}, s3{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr}, d4{nullptr},
      d5{nullptr}, bp{nullptr};
};
TORCH_MODULE(InceptionC);

class InceptionDImpl : public torch::nn::Module {
 public:
  explicit InceptionDImpl(int64_t in) {
    a1 = register_module("branch3x3_1", basic(in, 192, {1}));
    a2 = register_module("branch3x3_2", basic(192, 320, {3}, {2}));
    t1 = register_module("branch7x7x3_1", basic(in, 192, {1}));
    t2 = register_module("branch7x7x3_2", basic(192, 192, {1, 7}, {1}, {0, 3}));
    t3 = register_module("branch7x7x3_3", basic(192, 192, {7, 1}, {1}, {3, 0}));
    t4 = register_module("branch7x7x3_4", basic(192, 192, {3}, {2}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return torch::cat({a2(a1(x)), t4(t3(t2(t1(x)))), max3s2(x)}, 1); }
  ConvBnRelu a1{nullptr}, a2{nullptr}, t1{nullptr}, t2{nullptr}, t3{nullptr}, t4{nullptr};
};
TORCH_MODULE(InceptionD);

class InceptionEImpl : public torch::nn::Module {
 public:
  explicit InceptionEImpl(int64_t in) {
    b1 = register_module("branch1x1", basic(in, 320, {1}));
    a1 = register_module("branch3x3_1", basic(in, 384, {1}));
    a2a = register_module("branch3x3_2a", basic(384, 384, {1, 3}, {1}, {0, 1}));
    a2b = register_module("branch3x3_2b", basic(384, 384, {3, 1}, {1}, {1, 0}));
    d1 = register_module("branch3x3dbl_1", basic(in, 448, {1}));
    d2 = register_module("branch3x3dbl_2", basic(448, 384, {3}, {1}, {1}));
    d3a = register_module("branch3x3dbl_3a", basic(384, 384, {1, 3}, {1}, {0, 1}));
    d3b = register_module("branch3x3dbl_3b", basic(384, 384, {3, 1}, {1}, {1, 0}));
    bp = register_module("branch_pool", basic(in, 192, {1}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto a = a1(x);
    auto d = d2(d1(x));
    return torch::cat({b1(x), torch::cat({a2a(a), a2b(a)}, 1), torch::cat({d3a(d), d3b(d)}, 1), bp(avg3(x))}, 1);
  }
  ConvBnRelu b1{nullptr}, a1{nullptr}, a2a{nullptr}, a2b{nullptr}, d1{nullptr}, d2{nullptr}, d3a{nullptr}, d3b{nullptr},
      bp{nullptr};
};
TORCH_MODULE(InceptionE);

class InceptionAuxImpl : public torch::nn::Module {
 public:
  InceptionAuxImpl(int64_t in, int64_t num_classes) {
    conv0 = register_module("conv0", basic(in, 128, {1}));
    conv1 = register_module("conv1", basic(128, 768, {5}));
    fc = register_module("fc", torch::nn::Linear(768, num_classes));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = conv1(conv0(torch::avg_pool2d(x, 5, 3)));
    return counted(fc, torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
  }
  ConvBnRelu conv0{nullptr}, conv1{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(InceptionAux);

}  // namespace

torch::Tensor inception_transform_input(const torch::Tensor& x) {
  auto c0 = x.select(1, 0).unsqueeze(1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5;
  auto c1 = x.select(1, 1).unsqueeze(1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5;
  auto c2 = x.select(1, 2).unsqueeze(1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5;
  return torch::cat({c0, c1, c2}, 1);
}

InceptionV3Impl::InceptionV3Impl(const BackboneOptions& options) : options_(options) {
  auto add = [&](const std::string& name, auto module) {
    register_module(name, module);
    layers_.emplace_back(name, torch::nn::AnyModule(module));
  };
  add("Conv2d_1a_3x3", basic(3, 32, {3}, {2}));
  add("Conv2d_2a_3x3", basic(32, 32, {3}));
  add("Conv2d_2b_3x3", basic(32, 64, {3}, {1}, {1}));
  add("Conv2d_3b_1x1", basic(64, 80, {1}));
  add("Conv2d_4a_3x3", basic(80, 192, {3}));
  add("Mixed_5b", InceptionA(192, 32));
  add("Mixed_5c", InceptionA(256, 64));
  add("Mixed_5d", InceptionA(288, 64));
  add("Mixed_6a", InceptionB(288));
  add("Mixed_6b", InceptionC(768, 128));
  add("Mixed_6c", InceptionC(768, 160));
  add("Mixed_6d", InceptionC(768, 160));
  add("Mixed_6e", InceptionC(768, 192));
  if (options.with_classifier && options.aux_logits) {
    InceptionAux aux(768, options.num_classes);
    register_module("AuxLogits", aux);
    aux_ = torch::nn::AnyModule(aux);
  }
  add("Mixed_7a", InceptionD(768));
  add("Mixed_7b", InceptionE(1280));
  add("Mixed_7c", InceptionE(2048));
  if (options.with_classifier) fc = register_module("fc", torch::nn::Linear(2048, options.num_classes));
  init_truncated_normal(*this, 0.1);
  if (!aux_.is_empty()) {
    // torchvision sets stddev 0.001 on AuxLogits.fc (its conv1's 0.01 never reaches the inner conv).
    trunc_normal_(aux_.get<InceptionAux>()->fc->weight, 0, 0.001, -2, 2);
  }
}

std::vector<FeatureSpec> InceptionV3Impl::feature_specs() const {
  return {{"c2", 64, 4}, {"c3", 288, 8}, {"c4", 768, 16}, {"c5", 2048, 32}};
}

torch::Tensor InceptionV3Impl::run(const torch::Tensor& input, FeatureMaps* maps, torch::Tensor* aux) {
  torch::Tensor x = options_.transform_input ? inception_transform_input(input) : input;
  for (auto& [name, m] : layers_) {
    x = m.forward(x);
    if (name == "Conv2d_2b_3x3") {
      x = max3s2(x);
      if (maps) maps->emplace_back("c2", x);
    } else if (name == "Conv2d_4a_3x3") {
      x = max3s2(x);
    } else if (name == "Mixed_5d" && maps) {
      maps->emplace_back("c3", x);
    } else if (name == "Mixed_6e") {
      if (maps) maps->emplace_back("c4", x);
      if (aux && !aux_.is_empty() && is_training()) *aux = aux_.forward(x);
    }
  }
  if (maps) maps->emplace_back("c5", x);
  return x;
}

FeatureMaps InceptionV3Impl::features(const torch::Tensor& x) {
  FeatureMaps maps;
  run(x, &maps, nullptr);
  return maps;
}

std::pair<torch::Tensor, torch::Tensor> InceptionV3Impl::forward_with_aux(const torch::Tensor& x) {
  TORCH_CHECK(!fc.is_empty(), "inception_v3: built without a classifier");
  torch::Tensor aux;
  auto y = torch::adaptive_avg_pool2d(run(x, nullptr, &aux), {1, 1}).flatten(1);
  y = torch::dropout(y, 0.5, is_training());
  return {counted(fc, y), aux};
}

torch::Tensor InceptionV3Impl::forward(const torch::Tensor& x) { return forward_with_aux(x).first; }

}  // namespace cvtk::vision

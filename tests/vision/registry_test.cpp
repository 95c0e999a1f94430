// The generic checker over the whole registry, and SNet's numbers against models.md.
#include <gtest/gtest.h>

#include <map>

#include "vision/backbones/model_info.h"
#include "vision/backbones/registry.h"
#include "vision/nn/layers.h"
#include "vision/nn/macs.h"
#include "vision/nn/weights.h"
#include "tests/vision/torchvision_fixture.h"

using namespace cvtk;

class EveryBackbone : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { at::set_num_threads(2); }
};

TEST_P(EveryBackbone, BuildsListsItsMapsAndPassesGradients) {
  torch::manual_seed(0);
  vision::BackboneOptions o;
  o.num_classes = 10;
  vision::Backbone net = vision::create_backbone(GetParam(), o);
  net->train();
  const int64_t size = GetParam() == "inception_v3" ? 299 : 160;
  const torch::Tensor x = torch::randn({2, 3, size, size}).requires_grad_(true);
  const auto maps = net->features(x);
  const auto specs = net->feature_specs();
  ASSERT_EQ(maps.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(specs[i].name);
    EXPECT_EQ(maps[i].first, specs[i].name);
    EXPECT_EQ(maps[i].second.size(1), specs[i].channels);
    // Inception's unpadded stem makes its maps smaller than size / stride; the rest round up.
    const int64_t expect = (size + specs[i].stride - 1) / specs[i].stride;
    EXPECT_LE(maps[i].second.size(2), expect);
    EXPECT_GE(maps[i].second.size(2), expect - 4);
    EXPECT_TRUE(torch::isfinite(maps[i].second).all().item<bool>());
  }
  const torch::Tensor logits = net->forward(x);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  logits.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
}

// prepare_for_inference against the plain eval model: logits and maps, then after the weights change
// in place and after a training-mode pass, both of which must refresh the folded tensors and caches.
TEST_P(EveryBackbone, PreparedForInferenceMatchesThePlainEvalModel) {
  const std::string name = GetParam();
  torch::manual_seed(1);
  vision::BackboneOptions o;
  o.stochastic_depth = 0;  // the training pass below must do the same in both models
  vision::Backbone net = vision::create_backbone(name, o), plain = vision::create_backbone(name, o);
  {
    // Non-trivial BatchNorm statistics and affine parameters, as trained weights have.
    torch::NoGradGuard no_grad;
    for (auto& [k, t] : vision::state_dict(*net))
      if (k.find("running_var") != std::string::npos)
        t.uniform_(0.5, 2);
      else if (k.find("running_mean") != std::string::npos || k.find("bn.bias") != std::string::npos)
        t.uniform_(-0.5, 0.5);
    vision::load_state_dict(*plain, vision::state_dict(*net));
  }
  net->prepare_for_inference();
  plain->eval();
  std::vector<int64_t> sizes = {name == "inception_v3" ? 299 : 160};
  if (name.rfind("swin", 0) == 0) sizes.push_back(224);  // 160 pads every stage to the window, 224 none
  torch::NoGradGuard no_grad;
  for (int64_t size : sizes) {
    SCOPED_TRACE(size);
    const torch::Tensor x = torch::randn({2, 3, size, size});
    EXPECT_TRUE(cvtk::testing::close(net->forward(x), plain->forward(x)));
    EXPECT_TRUE(cvtk::testing::close(net->forward(x.slice(0, 0, 1)), plain->forward(x.slice(0, 0, 1))));
    const auto a = net->features(x), b = plain->features(x);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(cvtk::testing::close(a[i].second, b[i].second)) << a[i].first;
  }
  const torch::Tensor x = torch::randn({2, 3, sizes[0], sizes[0]});
  for (auto* m : {&net, &plain}) {
    auto sd = vision::state_dict(**m);
    for (auto& [k, t] : sd)
      if (t.is_floating_point() && k.find("running_var") == std::string::npos) t.mul_(1.25);
  }
  EXPECT_TRUE(cvtk::testing::close(net->forward(x), plain->forward(x)));
  net->train();
  plain->train();
  net->features(x);
  plain->features(x);
  net->eval();
  plain->eval();
  EXPECT_TRUE(cvtk::testing::close(net->forward(x), plain->forward(x)));
}

// Odd input sizes and batches of 1 and 4, and an eval-mode pass with autograd recording: a prepared
// model must then give the plain model's values AND its parameter gradients (a folded or fused path
// that ran anyway would leave the parameters without gradients).
TEST_P(EveryBackbone, PreparedForInferenceMatchesAtOddSizesAndUnderAutograd) {
  const std::string name = GetParam();
  torch::manual_seed(2);
  vision::BackboneOptions o;
  o.stochastic_depth = 0;
  vision::Backbone net = vision::create_backbone(name, o), plain = vision::create_backbone(name, o);
  {
    torch::NoGradGuard no_grad;
    for (auto& [k, t] : vision::state_dict(*net))
      // Variances of 1 to 2 keep 90 layers of Inception from growing the activations by 1e20.
      if (k.find("running_var") != std::string::npos) t.uniform_(1, 2);
    vision::load_state_dict(*plain, vision::state_dict(*net));
  }
  net->prepare_for_inference();
  plain->eval();
  const int64_t odd = name == "inception_v3" ? 301 : name.rfind("swin", 0) == 0 ? 131 : 97;
  {
    torch::NoGradGuard no_grad;
    for (int64_t batch : {1, 4}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      const torch::Tensor x = torch::randn({batch, 3, odd, odd + 2});
      EXPECT_TRUE(cvtk::testing::close(net->forward(x), plain->forward(x)));
    }
  }
  const torch::Tensor x = torch::randn({2, 3, odd, odd});
  net->zero_grad();
  plain->zero_grad();
  // The prepared model hands its layers ChannelsLast maps, whose convolutions round differently; the
  // reference gets the same layout, so what is compared is the code path alone (Inception's untrained
  // gradients reach 1e9, where layouts alone differ by 2e-3).
  const auto a = net->forward(x), b = plain->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(cvtk::testing::close(a.detach(), b.detach()));
  const auto weights = torch::rand_like(b.detach());  // a loss whose gradient does not grow with the logits
  (a * weights).sum().backward();
  (b * weights).sum().backward();
  std::map<std::string, torch::Tensor> reference;
  for (const auto& p : plain->named_parameters()) reference[p.key()] = p.value().grad();
  size_t compared = 0;
  for (const auto& p : net->named_parameters()) {
    const auto& want = reference[p.key()];
    if (!want.defined()) continue;  // a parameter the output does not depend on (aux heads)
    ASSERT_TRUE(p.value().grad().defined()) << p.key() << ": no gradient through the prepared model";
    EXPECT_TRUE(cvtk::testing::close(p.value().grad(), want, 1e-3)) << p.key();
    ++compared;
  }
  EXPECT_GT(compared, 0u);
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryBackbone, ::testing::ValuesIn(vision::backbone_names()),
                         [](const auto& info) { return info.param; });

TEST(Registry, UnknownNameListsTheKnownOnes) {
  try {
    vision::create_backbone("resnet50");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("snet146"), std::string::npos);
  }
}

TEST(Snet, FeatureShapesAt320AndCountsOfModelsMd) {
  at::set_num_threads(2);
  // models.md §1.2: MACs at 224 (conv + fc, Megvii units, 5x5 depthwise): 51.2 M, 162.5 M, 539.9 M.
  const std::vector<std::pair<int, double>> expected = {{49, 51.2e6}, {146, 162.5e6}, {535, 539.9e6}};
  for (const auto& [variant, macs] : expected) {
    SCOPED_TRACE(variant);
    const vision::ModelInfo info = vision::model_info("snet" + std::to_string(variant));
    EXPECT_NEAR(static_cast<double>(info.macs), macs, 0.05e6 + 1e-3 * macs);
    const vision::ModelInfo at320 = vision::model_info("snet" + std::to_string(variant), 320);
    for (const auto& f : at320.features) {
      if (f.spec.name == "c4") {
        EXPECT_EQ(f.height, 20);
      }
      if (f.spec.name == "c5") {
        EXPECT_EQ(f.height, 10);
      }
    }
  }
  // C4 / C5 widths from the paper's table.
  auto c = [](int v, const char* n) {
    for (const auto& s : vision::create_backbone("snet" + std::to_string(v))->feature_specs())
      if (s.name == n) return s.channels;
    return int64_t(-1);
  };
  EXPECT_EQ(c(49, "c4"), 120);
  EXPECT_EQ(c(49, "c5"), 512);
  EXPECT_EQ(c(146, "c4"), 264);
  EXPECT_EQ(c(146, "c5"), 528);
  EXPECT_EQ(c(535, "c4"), 496);
  EXPECT_EQ(c(535, "c5"), 992);
}

TEST(ShuffleNet, ParameterCountsOfTorchvision) {
  // models.md §2.
  EXPECT_EQ(vision::model_info("shufflenet_v2_x0_5").parameters, 1366792);
  EXPECT_EQ(vision::model_info("shufflenet_v2_x1_0").parameters, 2278604);
  EXPECT_EQ(vision::model_info("shufflenet_v2_x1_5").parameters, 3503624);
  EXPECT_EQ(vision::model_info("shufflenet_v2_x2_0").parameters, 7393996);
  // Measured MACs at 224 (conv + fc): 40.5 M, 144.9 M, 295.8 M, 583.3 M.
  EXPECT_NEAR(vision::model_info("shufflenet_v2_x1_0").macs, 144.9e6, 0.2e6);
}

TEST(Counts, ParametersOfTorchvisionModels) {
  // models.md §3, §4 (with aux heads where the model has them, as built by default).
  EXPECT_EQ(vision::model_info("swin_t").parameters, 28288354);
  EXPECT_EQ(vision::model_info("inception_v3").parameters, 27161264);
  EXPECT_EQ(vision::model_info("googlenet").parameters, 13004888);
  vision::BackboneOptions no_aux;
  no_aux.aux_logits = false;
  EXPECT_EQ(vision::parameter_count(*vision::create_backbone("inception_v3", no_aux)), 23834568);
  EXPECT_EQ(vision::parameter_count(*vision::create_backbone("googlenet", no_aux)), 6624904);
}

TEST(Fusion, FoldedBatchNormGivesTheSameOutputs) {
  at::set_num_threads(2);
  torch::manual_seed(1);
  vision::Backbone net = vision::create_backbone("googlenet");
  // Non-trivial statistics, as trained weights have.
  torch::NoGradGuard no_grad;
  for (auto& [k, t] : vision::state_dict(*net))
    if (k.find("running_var") != std::string::npos)
      t.uniform_(0.5, 2);
    else if (k.find("running_mean") != std::string::npos)
      t.uniform_(-0.5, 0.5);
  net->eval();
  const torch::Tensor x = torch::randn({2, 3, 160, 160});
  const torch::Tensor plain = net->forward(x);
  EXPECT_GT(vision::fuse_for_inference(*net), 50);
  EXPECT_TRUE(torch::allclose(net->forward(x), plain, 1e-4, 1e-4));
  net->train();
  net->forward(x);  // training drops the folded weights
  net->eval();
  EXPECT_TRUE(torch::allclose(net->forward(x), net->forward(x)));
}

// The generic checker over the whole registry, and SNet's numbers against models.md.
#include <gtest/gtest.h>

#include "vision/backbones/model_info.h"
#include "vision/backbones/registry.h"
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

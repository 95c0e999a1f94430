// cvtk's backbones against torchvision's, weights loaded by torchvision's own names: logits and feature
// maps in eval mode (batch 1 and 4, plain and prepared for inference), feature maps and BatchNorm
// statistics after a train-mode forward, and the weight round trip cvtk -> torchvision -> cvtk.
#include <gtest/gtest.h>

#include "tests/vision/torchvision_fixture.h"
#include "vision/backbones/registry.h"
#include "vision/inference/backbone_executor.h"

using namespace cvtk;
using cvtk::testing::close;

class TorchvisionParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!cvtk::testing::have_torchvision())
      GTEST_SKIP() << "/usr/bin/python3 with torchvision not found: skipping parity";
    at::set_num_threads(2);
  }
};

TEST_P(TorchvisionParity, EvalLogitsAndFeatures) {
  const std::string name = GetParam();
  const auto fx = cvtk::testing::torchvision_fixture(name, 4);
  vision::Backbone net = vision::create_backbone(name);
  vision::load_state_dict(*net, cvtk::testing::with_prefix(fx, "weights."), true);
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = fx.at("input");
  EXPECT_TRUE(close(net->forward(x), fx.at("eval.logits")));
  // Batch 1 gives the first row.
  EXPECT_TRUE(close(net->forward(x.slice(0, 0, 1)), fx.at("eval.logits").slice(0, 0, 1)));
  const auto maps = net->features(x);
  const auto specs = net->feature_specs();
  for (const auto& spec : specs) {
    SCOPED_TRACE(spec.name);
    const torch::Tensor m = vision::BackboneImpl::pick(maps, spec.name);
    EXPECT_EQ(m.size(1), spec.channels);
    EXPECT_TRUE(close(m, fx.at("eval." + spec.name)));
  }
  // The inference executor too (folded BatchNorm, ChannelsLast, Swin's fused attention).
  const auto executor = vision::optimize_for_inference(net);
  EXPECT_TRUE(close(executor->forward(x), fx.at("eval.logits")));
  EXPECT_TRUE(close(executor->forward(x.slice(0, 0, 1)), fx.at("eval.logits").slice(0, 0, 1)));
  const auto prepared = executor->features(x);
  for (const auto& spec : specs)
    EXPECT_TRUE(close(vision::BackboneImpl::pick(prepared, spec.name), fx.at("eval." + spec.name))) << spec.name;
}

TEST_P(TorchvisionParity, TrainModeFeaturesAndBatchNormStatistics) {
  const std::string name = GetParam();
  const auto fx = cvtk::testing::torchvision_fixture(name, 4);
  vision::BackboneOptions o;
  o.stochastic_depth = 0;  // the fixture's train pass has it off too
  vision::Backbone net = vision::create_backbone(name, o);
  vision::load_state_dict(*net, cvtk::testing::with_prefix(fx, "weights."), true);
  net->train();
  torch::NoGradGuard no_grad;
  const auto maps = net->features(fx.at("input"));
  // Train-mode BatchNorm divides by batch statistics layer after layer, so the rounding of whichever
  // SIMD kernels ran grows with depth (1e-3 of the maps' scale at Inception v3's c5 on baseline kernels).
  for (const auto& [key, t] : maps) EXPECT_TRUE(close(t, fx.at("train." + key), 1e-3)) << key;
  size_t stats = 0;
  for (const auto& [key, t] : vision::state_dict(*net)) {
    auto it = fx.find("train.state." + key);
    if (it == fx.end()) continue;
    ++stats;
    if (key.find("num_batches_tracked") != std::string::npos) {
      EXPECT_TRUE(torch::equal(t, it->second)) << key;
    }
    // Running means of maps that follow a BatchNorm are ~0: judged against the maps' unit scale.
    else
      EXPECT_TRUE(close(t, it->second, 1e-4, 0.01)) << key;
  }
  size_t expected = 0;  // models without BatchNorm (Swin) have none
  for (const auto& [k, t] : fx) expected += k.rfind("train.state.", 0) == 0;
  EXPECT_EQ(stats, expected);
}

TEST_P(TorchvisionParity, WeightsRoundTripThroughTorchvision) {
  const std::string name = GetParam();
  const auto dir = cvtk::testing::scratch_dir("round_trip_" + name);
  torch::manual_seed(3);
  vision::Backbone net = vision::create_backbone(name);
  net->eval();
  vision::save_weights(*net, dir / "cvtk.pt");
  const torch::Tensor x = torch::randn({1, 3, net->default_input_size(), net->default_input_size()});
  vision::write_weights({{"x", x}}, dir / "input.pt");
  ASSERT_TRUE(cvtk::testing::run_python("import " + name + " " + (dir / "cvtk.pt").string() + " --input " +
                                        (dir / "input.pt").string() + " --output " + (dir / "out.pt").string()));
  torch::NoGradGuard no_grad;
  torch::Tensor theirs;
  for (const auto& [k, t] : vision::read_weights(dir / "out.pt"))
    if (k == "logits") theirs = t;
  ASSERT_TRUE(theirs.defined());
  EXPECT_TRUE(close(net->forward(x), theirs));
  // And back: a fresh model loads the file and holds exactly the same tensors.
  vision::Backbone again = vision::create_backbone(name);
  vision::load_weights(*again, dir / "cvtk.pt");
  const auto a = vision::state_dict(*net), b = vision::state_dict(*again);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
}

INSTANTIATE_TEST_SUITE_P(Backbones, TorchvisionParity,
                         ::testing::Values("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
                                           "shufflenet_v2_x2_0", "swin_t", "swin_s", "swin_b", "inception_v3",
                                           "googlenet"),
                         [](const auto& info) { return info.param; });

TEST(TransformInput, MatchesTorchvisionForInceptionAndGoogLeNet) {
  if (!cvtk::testing::have_torchvision()) {
    GTEST_SKIP() << "/usr/bin/python3 with torchvision not found";
  }
  at::set_num_threads(2);
  for (const std::string name : {"inception_v3", "googlenet"}) {
    SCOPED_TRACE(name);
    const auto fx = cvtk::testing::torchvision_fixture(name, 1, "--transform-input");
    vision::BackboneOptions o;
    o.transform_input = true;
    vision::Backbone net = vision::create_backbone(name, o);
    vision::load_state_dict(*net, cvtk::testing::with_prefix(fx, "weights."), true);
    net->eval();
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(close(net->forward(fx.at("input")), fx.at("eval.logits")));
  }
}

TEST(Weights, MismatchesAreListed) {
  vision::Backbone net = vision::create_backbone("shufflenet_v2_x0_5");
  auto sd = vision::state_dict(*net);
  sd.erase(sd.begin());                                // conv1.0.weight missing
  sd.emplace_back("extra.weight", torch::zeros({1}));  // unexpected
  for (auto& [k, t] : sd)
    if (k == "fc.weight") t = torch::zeros({10, 1024});  // mis-shaped
  try {
    vision::load_state_dict(*net, sd, true);
    FAIL();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("conv1.0.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("extra.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("fc.weight: [10, 1024] vs [1000, 1024]"), std::string::npos) << what;
  }
}

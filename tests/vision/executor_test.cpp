// The generic check of the inference executors (vision/inference): for every registered backbone the
// executor computes the plain module's eval-mode function, at odd sizes and batches 1 and 4, with
// trained-looking weights, after the weights change in place and after the module trains a step; and
// it refuses to run where autograd would record.
#include <gtest/gtest.h>

#include "vision/backbones/registry.h"
#include "vision/inference/backbone_executor.h"
#include "vision/nn/weights.h"
#include "tests/vision/torchvision_fixture.h"

using namespace cvtk;

namespace {

// Non-trivial BatchNorm statistics and affine parameters, as trained weights have. Variances of 1 to 2
// keep 90 layers of Inception from growing the activations by 1e20.
void perturb_batch_norms(vision::BackboneImpl& net) {
  torch::NoGradGuard no_grad;
  for (auto& [k, t] : vision::state_dict(net))
    if (k.find("running_var") != std::string::npos)
      t.uniform_(1, 2);
    else if (k.find("running_mean") != std::string::npos || k.find("bn.bias") != std::string::npos)
      t.uniform_(-0.5, 0.5);
}

// The odd sizes each family meets: Inception's unpadded stem needs 75 px or more; Swin pads every
// stage to its window at 131 and none at 224.
std::vector<std::pair<int64_t, int64_t>> sizes_for(const std::string& name) {
  if (name == "inception_v3") return {{301, 303}};
  if (name.rfind("swin", 0) == 0) return {{131, 133}, {224, 224}};
  return {{97, 99}, {160, 160}};
}

void expect_same_function(vision::BackboneExecutor& executor, vision::BackboneImpl& plain, const torch::Tensor& x,
                          const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_TRUE(cvtk::testing::close(executor.forward(x), plain.forward(x))) << "logits";
  const auto a = executor.features(x), b = plain.features(x);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(cvtk::testing::close(a[i].second, b[i].second)) << a[i].first;
  }
}

}  // namespace

class EveryExecutor : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { at::set_num_threads(2); }
};

TEST_P(EveryExecutor, ComputesThePlainModulesFunction) {
  const std::string name = GetParam();
  torch::manual_seed(1);
  vision::BackboneOptions o;
  o.num_classes = 10;
  o.stochastic_depth = 0;  // the training pass below must do the same thing each time it runs
  vision::Backbone net = vision::create_backbone(name, o);
  perturb_batch_norms(*net);
  net->eval();
  const auto executor = vision::optimize_for_inference(net);
  torch::NoGradGuard no_grad;
  for (const auto& [h, w] : sizes_for(name))
    for (int64_t batch : {1, 4})
      expect_same_function(*executor, *net, torch::randn({batch, 3, h, w}),
                           std::to_string(batch) + " x " + std::to_string(h) + "x" + std::to_string(w));
  const auto [h, w] = sizes_for(name).front();
  const torch::Tensor x = torch::randn({2, 3, h, w});
  // Weights changed in place (as loading does): the executor rebuilds itself on its next call.
  for (auto& [k, t] : vision::state_dict(*net))
    if (t.is_floating_point() && k.find("running_var") == std::string::npos) t.mul_(1.25);
  expect_same_function(*executor, *net, x, "after the weights changed");
  // A training-mode pass moves the BatchNorms' running statistics without a trace in their version
  // counters: training steps are followed by rebuild().
  {
    torch::AutoGradMode grad(true);
    net->train();
    net->features(x);
    net->eval();
  }
  executor->rebuild();
  expect_same_function(*executor, *net, x, "rebuilt after a training pass");
}

TEST_P(EveryExecutor, RefusesWhereAutogradWouldRecord) {
  torch::manual_seed(2);
  vision::BackboneOptions o;
  o.num_classes = 10;
  vision::Backbone net = vision::create_backbone(GetParam(), o);
  const auto executor = vision::optimize_for_inference(net);
  const int64_t side = GetParam() == "inception_v3" ? 299 : 64;
  const torch::Tensor x = torch::randn({1, 3, side, side});
  EXPECT_THROW(executor->features(x), std::logic_error);                          // parameters require grad
  EXPECT_THROW(executor->forward(x.clone().requires_grad_()), std::logic_error);  // so does the input
  torch::NoGradGuard no_grad;
  EXPECT_EQ(executor->forward(x).sizes(), (std::vector<int64_t>{1, 10}));
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryExecutor, ::testing::ValuesIn(vision::backbone_names()),
                         [](const auto& info) { return info.param; });

TEST(Executor, NeedsAClassifierForLogitsAndABackbone) {
  vision::BackboneOptions o;
  o.with_classifier = false;
  const auto executor = vision::optimize_for_inference(vision::create_backbone("snet49", o));
  torch::NoGradGuard no_grad;
  EXPECT_THROW(executor->forward(torch::zeros({1, 3, 64, 64})), std::invalid_argument);
  EXPECT_EQ(executor->features(torch::zeros({1, 3, 64, 64})).size(), 4u);
  EXPECT_THROW(vision::optimize_for_inference(nullptr), std::invalid_argument);
}

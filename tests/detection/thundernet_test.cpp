// ThunderNet's modules and the whole model: shapes at every training size, losses on hand-made cases,
// gradient paths, inference limits, freezing, checkpoints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <tuple>

#include <ATen/CPUGeneratorImpl.h>

#include "detection/box_coder.h"
#include "detection/checkpoint.h"
#include "detection/nms.h"
#include "detection/thundernet.h"
#include "tests/common.h"

using namespace cvtk::detection;

namespace {

ThunderNetOptions small_options(int64_t classes = 3) {
  auto o = model_options("thundernet-snet49", classes);
  o.rpn.pre_nms_train = 300;
  o.rpn.post_nms_train = 100;
  o.rcnn.batch_per_image = 64;
  return o;
}

std::vector<GroundTruth> two_targets() {
  return {{torch::tensor({{20.f, 30.f, 120.f, 140.f}, {150.f, 40.f, 220.f, 90.f}}), torch::tensor({0L, 2L})},
          {torch::zeros({0, 4}), torch::zeros({0}, torch::kInt64)}};
}

}  // namespace

TEST(ContextEnhancement, UpsamplesC5ToC4AtEveryTrainingSize) {
  torch::manual_seed(0);
  ContextEnhancement cem(120, 512, 245);
  for (auto [side, c4, c5] : std::vector<std::tuple<int, int, int>>{{240, 15, 8}, {320, 20, 10}, {480, 30, 15}}) {
    auto out = cem->forward(torch::randn({2, 120, c4, c4}), torch::randn({2, 512, c5, c5}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 245, c4, c4})) << side;
  }
}

TEST(ContextEnhancement, IsTheSumOfItsThreeBranches) {
  torch::manual_seed(0);
  ContextEnhancement cem(4, 6, 5);
  auto c4 = torch::randn({1, 4, 4, 4}), c5 = torch::randn({1, 6, 2, 2});
  auto params = cem->named_parameters();
  namespace F = torch::nn::functional;
  auto conv = [&](const std::string& n, const torch::Tensor& x) {
    return F::conv2d(x, params[n + ".weight"], F::Conv2dFuncOptions().bias(params[n + ".bias"]));
  };
  auto up = conv("c5_lat", c5).repeat_interleave(2, 2).repeat_interleave(2, 3);  // nearest x2
  auto expected = conv("c4_lat", c4) + up + conv("c_glb", c5.mean({2, 3}, true));
  EXPECT_TRUE(torch::allclose(cem->forward(c4, c5), expected, 1e-5, 1e-5));
  // Pixel-major maps without autograd take the fused path: two images (each its own global branch),
  // an odd C4 size (nearest upsampling from 3 to 5 repeats rows 0, 1 and 2 unevenly).
  torch::NoGradGuard no_grad;
  const auto c4b = torch::randn({2, 4, 5, 5}), c5b = torch::randn({2, 6, 3, 3});
  const auto reference =
      conv("c4_lat", c4b) +
      F::interpolate(conv("c5_lat", c5b),
                     F::InterpolateFuncOptions().size(std::vector<int64_t>{5, 5}).mode(torch::kNearest)) +
      conv("c_glb", c5b.mean({2, 3}, true));
  const auto cl = torch::MemoryFormat::ChannelsLast;
  EXPECT_TRUE(torch::allclose(cem->forward(c4b.contiguous(cl), c5b.contiguous(cl)), reference, 1e-5, 1e-5));
}

TEST(SpatialAttention, ScalesTheThinMapBySigmoid) {
  SpatialAttention sam(8, 5);
  sam->eval();
  for (auto& p : sam->parameters()) p.data().zero_();  // conv 0 -> BN(0) = beta = 0 -> sigmoid 0.5
  auto cem = torch::randn({1, 5, 3, 3});
  EXPECT_TRUE(torch::allclose(sam->forward(cem, torch::randn({1, 8, 3, 3})), cem * 0.5));
}

TEST(ThunderNet, FeatureShapesAndOutputsAtTrainingSizes) {
  torch::manual_seed(0);
  ThunderNet model(small_options());
  model->eval();
  for (int side : {240, 320}) {
    auto dets = model->detect(torch::randn({2, 3, side, side}));
    ASSERT_EQ(dets.size(), 2u);
    for (const auto& d : dets) {
      EXPECT_LE(d.boxes.size(0), 100);
      EXPECT_EQ(d.boxes.size(0), d.scores.size(0));
      if (d.boxes.size(0)) {
        EXPECT_GE(d.boxes.min().item<float>(), 0);
        EXPECT_LE(d.boxes.max().item<float>(), side);
        EXPECT_GE(d.scores.min().item<float>(), 0.05f);
        EXPECT_LT(d.labels.max().item<int64_t>(), 3);
      }
    }
  }
}

TEST(ThunderNet, InitialLossesMatchTheirClosedForms) {
  torch::manual_seed(0);
  ThunderNet model(small_options(3));
  // Zero the classification layers: RPN logits 0 -> BCE log 2; R-CNN logits 0 -> CE log(K + 1).
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("rpn.cls.", 0) == 0 || p.key().rfind("rcnn.cls.", 0) == 0) p.value().data().zero_();
  }
  model->train();
  auto l = model->forward_train(torch::randn({2, 3, 320, 320}), two_targets());
  EXPECT_NEAR(l.rpn_objectness.item<double>(), std::log(2.0), 1e-5);
  EXPECT_NEAR(l.rcnn_classification.item<double>(), std::log(4.0), 1e-5);
  EXPECT_GT(l.foreground_rois, 0);
  EXPECT_TRUE(std::isfinite(l.total().item<double>()));
}

TEST(ThunderNet, RcnnLossReachesTheRpnTrunkThroughSam) {
  torch::manual_seed(0);
  ThunderNet model(small_options());
  model->train();
  auto l = model->forward_train(torch::randn({2, 3, 320, 320}), two_targets());
  (l.rcnn_classification + l.rcnn_box).backward();
  auto params = model->named_parameters();
  EXPECT_GT(params["rpn.trunk.3.weight"].grad().abs().sum().item<double>(), 0);  // via SAM
  EXPECT_GT(params["sam.conv.weight"].grad().abs().sum().item<double>(), 0);
  EXPECT_GT(params["backbone.conv1.0.weight"].grad().abs().sum().item<double>(), 0);
  EXPECT_FALSE(params["rpn.cls.weight"].grad().defined() &&
               params["rpn.cls.weight"].grad().abs().sum().item<double>() > 0);
}

TEST(ThunderNet, EmptyImagesAreNegatives) {
  torch::manual_seed(0);
  ThunderNet model(small_options());
  model->train();
  std::vector<GroundTruth> none(2, {torch::zeros({0, 4}), torch::zeros({0}, torch::kInt64)});
  auto l = model->forward_train(torch::randn({2, 3, 240, 240}), none);
  EXPECT_EQ(l.foreground_rois, 0);
  EXPECT_EQ(l.rpn_box.item<double>(), 0);
  EXPECT_EQ(l.rcnn_box.item<double>(), 0);
  l.total().backward();
}

TEST(ThunderNet, FreezingKeepsStagesAndBatchNormFixed) {
  ThunderNet model(small_options());
  model->freeze_backbone(2, true);
  model->train();
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("backbone.conv1", 0) == 0 || p.key().rfind("backbone.stage2", 0) == 0) {
      EXPECT_FALSE(p.value().requires_grad()) << p.key();
    }
  }
  EXPECT_TRUE(model->named_parameters()["backbone.stage3.0.branch_main.0.weight"].requires_grad());
  for (auto& m : model->backbone()->modules(false))
    if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      EXPECT_FALSE(m->is_training());
    }
  EXPECT_TRUE(model->is_training());
}

TEST(ThunderNet, UnknownModelNamesAreListed) {
  try {
    model_options("yolo-v9", 3);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("thundernet-snet146"), std::string::npos);
  }
  EXPECT_THROW(ThunderNet(model_options("thundernet-nosuchnet", 3)), std::invalid_argument);
}

TEST(Checkpoint, RoundTripGivesTheSameDetections) {
  torch::manual_seed(0);
  ModelInfo info;
  info.classes = {"a", "b", "c"};
  ThunderNet model(thundernet_options(info));
  model->eval();
  auto x = torch::randn({1, 3, 320, 320});
  auto before = model->detect(x);
  const auto file = cvtk::testing::scratch_dir("checkpoint") / "m.pt";
  TrainState state;
  state.epoch = 3;
  state.best_metric = 0.5;
  save_checkpoint(file, info, model, nullptr, nullptr, state, "epochs=3\n");
  ModelInfo back;
  auto loaded = load_model(file, &back);
  EXPECT_EQ(back.classes, info.classes);
  EXPECT_EQ(back.model, "thundernet-snet49");
  auto after = loaded->detect(x);
  EXPECT_TRUE(torch::equal(before[0].boxes, after[0].boxes));
  EXPECT_TRUE(torch::equal(before[0].scores, after[0].scores));
  auto c = read_checkpoint(file);
  EXPECT_EQ(c.state.epoch, 3);
  EXPECT_EQ(c.options_text, "epochs=3\n");
  EXPECT_FALSE(c.has_optimizer);
  // A checkpoint without optimizer state cannot be resumed from; garbage is named.
  torch::optim::SGD sgd(model->parameters(), 0.1);
  EXPECT_THROW(read_checkpoint(file, &sgd), std::runtime_error);
  std::ofstream(file.parent_path() / "junk.pt") << "not a checkpoint";
  try {
    read_checkpoint(file.parent_path() / "junk.pt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.pt"), std::string::npos);
  }
}

namespace {

// RoIs [R, 5] spread over a batch of `images` side x side images, seeded: the stand-in for proposals
// when comparing the heads of two inference paths.
torch::Tensor spread_rois(int64_t images, double side, int64_t per_image, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto xy = torch::rand({images * per_image, 2}, g) * (side * 0.8);
  auto wh = torch::rand({images * per_image, 2}, g) * (side * 0.5) + 4;
  auto index = torch::arange(images, torch::kFloat).repeat_interleave(per_image).unsqueeze(1);
  return torch::cat({index, xy, (xy + wh).clamp_max(side)}, 1);
}

// a and b equal up to float rounding of differently ordered kernels: the largest difference at most
// `relative` of the largest magnitude (a wrong fold or a stale cache is off by far more).
void expect_close(const torch::Tensor& a, const torch::Tensor& b, double relative, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double scale = a.abs().max().item<double>();
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LE(diff, relative * scale + 1e-7) << what << ": largest difference " << diff << " of values up to " << scale;
}

void expect_raw_close(const RawOutputs& a, const RawOutputs& b, double relative) {
  expect_close(a.rpn_logits, b.rpn_logits, relative, "RPN logits");
  expect_close(a.rpn_deltas, b.rpn_deltas, relative, "RPN deltas");
  expect_close(a.rcnn_logits, b.rcnn_logits, relative, "R-CNN logits");
  expect_close(a.rcnn_deltas, b.rcnn_deltas, relative, "R-CNN deltas");
}

}  // namespace

// The whole detector's inference executor against the plain model in eval mode, for each unit
// flavour (SNet's Megvii units, torchvision's ShuffleNet units): odd input sizes, batches 1 and 4,
// trained-looking BatchNorm statistics, then the weights changed in place (the executor rebuilds
// itself). Compared on the dense outputs before any selection, with a tolerance: an untrained model's
// detections are near ties whose order depends on the CPU's kernels (AVX2 vs AVX-512), so comparing
// detection lists is not a property of the code.
TEST(ThunderNet, ExecutorComputesThePlainModelsFunction) {
  for (const std::string backbone : {"snet49", "shufflenet_v2_x0_5"}) {
    SCOPED_TRACE(backbone);
    torch::manual_seed(0);
    auto options = model_options("thundernet-" + backbone, 3);
    ThunderNet model(options);
    {
      torch::NoGradGuard no_grad;
      for (auto& b : model->named_buffers())
        if (b.key().find("running_var") != std::string::npos)
          b.value().uniform_(0.5, 2.0);
        else if (b.key().find("running_mean") != std::string::npos)
          b.value().uniform_(-0.1, 0.1);
    }
    model->eval();
    auto executor = optimize_for_inference(model);
    for (const auto& [batch, h, w] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 250, 330}, {4, 197, 203}}) {
      SCOPED_TRACE(std::to_string(batch) + " x " + std::to_string(h) + "x" + std::to_string(w));
      const auto x = torch::randn({batch, 3, h, w});
      const auto rois = spread_rois(batch, std::min(h, w), 30, 7);
      expect_raw_close(executor.raw_outputs(x, rois), model->raw_outputs(x, rois), 1e-3);
      // The detections themselves: same count of images and the limits on the executor's path.
      const auto a = model->detect(x), b = executor.detect(x);
      ASSERT_EQ(a.size(), b.size());
      for (const auto& d : b) {
        EXPECT_GT(d.boxes.size(0), 0);
        EXPECT_LE(d.boxes.size(0), 100);
        EXPECT_EQ(d.boxes.size(0), d.scores.size(0));
      }
    }
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters()) p.mul_(1.25);
    }
    const auto x = torch::randn({1, 3, 240, 240});
    const auto rois = spread_rois(1, 240, 30, 8);
    expect_raw_close(executor.raw_outputs(x, rois), model->raw_outputs(x, rois), 1e-3);
  }
}

// The executor between optimiser steps (what validation inside training would meet): LibTorch's
// optimisers update parameters through .data(), which leaves no trace the executor can see, so the
// rule is rebuild() after steps; rebuilt, it computes what a fresh model with the stepped weights does.
void expect_rebuilt_executor_follows_steps(const std::string& optimizer) {
  SCOPED_TRACE(optimizer);
  torch::manual_seed(5);
  ThunderNet model(small_options());
  const auto x = torch::randn({2, 3, 240, 240});
  const auto rois = spread_rois(2, 240, 20, 3);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (optimizer == "sgd")
    opt = std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  else
    opt = std::make_unique<torch::optim::AdamW>(model->parameters(), torch::optim::AdamWOptions(0.05));
  auto executor = optimize_for_inference(model);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    const auto seen = executor.raw_outputs(x, rois);
    executor.detect(x);
    model->train();
    auto l = model->forward_train(x, two_targets());
    opt->zero_grad();
    l.total().backward();
    opt->step();
    executor.rebuild();
    // A fresh model with the stepped weights is the reference.
    ThunderNet fresh(small_options());
    cvtk::vision::load_state_dict(*fresh, cvtk::vision::state_dict(*model));
    fresh->eval();
    const auto now = executor.raw_outputs(x, rois), expected = fresh->raw_outputs(x, rois);
    const double moved = (expected.rcnn_logits - seen.rcnn_logits).abs().max().item<double>();
    ASSERT_GT(moved, 1e-4) << "the step changed nothing";
    expect_raw_close(now, expected, 1e-3);
    EXPECT_LT((now.rcnn_logits - expected.rcnn_logits).abs().max().item<double>(), 0.1 * moved);
  }
}

TEST(ThunderNet, RebuiltExecutorFollowsSgdSteps) { expect_rebuilt_executor_follows_steps("sgd"); }

TEST(ThunderNet, RebuiltExecutorFollowsAdamWSteps) { expect_rebuilt_executor_follows_steps("adamw"); }

namespace {

// Proposal generation step by step with ATen's topk and an unbounded NMS, against the RPN's own
// selection and early-stopping NMS: the same boxes in the same order, for several images.
TEST(RegionProposal, ProposalsMatchAStepByStepReference) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  RpnOptions o;
  o.pre_nms_test = 300;
  o.post_nms_test = 40;
  RegionProposal rpn(16, AnchorOptions{}, o);
  const int64_t h = 12, w = 15, a = rpn->anchors_per_location();
  RpnOutput out;
  out.logits = torch::randn({2, h * w * a});
  out.deltas = torch::randn({2, h * w * a, 4}) * 0.3;
  out.anchors = AnchorGenerator().grid(h, w, torch::kCPU);
  const double width = 240, height = 192;
  const auto got = rpn->proposals(out, width, height, false);
  ASSERT_EQ(got.size(), 2u);
  BoxCoder coder;
  for (int64_t i = 0; i < 2; ++i) {
    auto [top, idx] = out.logits[i].topk(o.pre_nms_test);
    auto boxes =
        clip_boxes(coder.decode(out.deltas[i].index_select(0, idx), out.anchors.index_select(0, idx)), width, height);
    auto keep = torch::nonzero(((boxes.select(1, 2) - boxes.select(1, 0)) >= o.min_size) &
                               ((boxes.select(1, 3) - boxes.select(1, 1)) >= o.min_size))
                    .view(-1);
    boxes = boxes.index_select(0, keep);
    auto kept = nms(boxes, top.index_select(0, keep), o.nms_iou);
    auto expected = boxes.index_select(0, kept.narrow(0, 0, std::min<int64_t>(kept.numel(), o.post_nms_test)));
    EXPECT_EQ(got[i].size(0), o.post_nms_test);
    EXPECT_TRUE(torch::allclose(got[i], expected, 1e-5, 1e-4)) << "image " << i;
  }
}

}  // namespace

// Without autograd the head runs cls and box as one product; it must give what the two layers give,
// also after the weights change in place (a checkpoint load or an optimiser step).
TEST(RcnnHead, MergedProductMatchesTheTwoLayers) {
  torch::manual_seed(4);
  RcnnHead head(245, 3, RcnnOptions{});
  const auto x = torch::randn({7, 5, 7, 7});
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    const RcnnOutput tracked = head->forward(x);  // parameters require grad: the two layers
    ASSERT_TRUE(tracked.logits.requires_grad());
    torch::NoGradGuard no_grad;
    const RcnnOutput merged = head->forward(x);
    EXPECT_TRUE(torch::allclose(merged.logits, tracked.logits, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(merged.deltas, tracked.deltas, 1e-5, 1e-5));
    EXPECT_EQ(merged.logits.sizes(), (std::vector<int64_t>{7, 4}));  // 3 classes and background
    EXPECT_EQ(merged.deltas.sizes(), (std::vector<int64_t>{7, 12}));
    for (auto& p : head->parameters()) p.mul_(-1.5);
  }
}

// Without autograd the RPN reuses its merged head weights and its anchors: the outputs must be those of
// the tracked path, after an in-place weight change too, and the anchors follow the map size.
TEST(RegionProposal, CachedHeadsAndAnchorsFollowTheirSources) {
  torch::manual_seed(12);
  RegionProposal rpn(16, AnchorOptions{}, RpnOptions{});
  rpn->eval();
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{6, 7}, {6, 7}, {5, 9}}) {
    SCOPED_TRACE(::testing::Message() << h << "x" << w);
    const auto x = torch::randn({1, 16, h, w});
    const RpnOutput tracked = rpn->forward(x);
    ASSERT_TRUE(tracked.logits.requires_grad());
    torch::NoGradGuard no_grad;
    const RpnOutput cached = rpn->forward(x);
    EXPECT_TRUE(torch::allclose(cached.logits, tracked.logits, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(cached.deltas, tracked.deltas, 1e-5, 1e-5));
    EXPECT_TRUE(torch::equal(cached.anchors, AnchorGenerator().grid(h, w, torch::kCPU)));
    for (auto& p : rpn->parameters()) p.mul_(1.5);
  }
}

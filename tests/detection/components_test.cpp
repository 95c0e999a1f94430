// Anchors, box coding, matching, sampling, schedules and option files: hand-computed cases.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "detection/anchors.h"
#include "detection/box_coder.h"
#include "detection/lr_schedule.h"
#include "detection/matcher.h"
#include "detection/train_options.h"

using namespace cvtk::detection;

TEST(Anchors, TwentyFivePerCellCentredOnTheCell) {
  AnchorGenerator g;
  ASSERT_EQ(g.anchors_per_location(), 25);
  auto grid = g.grid(20, 20);
  ASSERT_EQ(grid.size(0), 20 * 20 * 25);
  // Cell (y=2, x=3), anchor ratio index 4 (h/w = 2), scale index 1 (64): index ((2*20)+3)*25 + 4*5 + 1.
  auto a = grid[(2 * 20 + 3) * 25 + 4 * 5 + 1];
  const double cx = (a[0].item<double>() + a[2].item<double>()) / 2,
               cy = (a[1].item<double>() + a[3].item<double>()) / 2;
  EXPECT_NEAR(cx, 3.5 * 16, 1e-4);
  EXPECT_NEAR(cy, 2.5 * 16, 1e-4);
  const double w = a[2].item<double>() - a[0].item<double>(), h = a[3].item<double>() - a[1].item<double>();
  EXPECT_NEAR(w * h, 64.0 * 64.0, 1e-2);
  EXPECT_NEAR(h / w, 2.0, 1e-5);
}

TEST(Anchors, AllAreasAndRatiosPresent) {
  AnchorGenerator g;
  auto c = g.cell_anchors();
  std::set<long> areas;
  for (int i = 0; i < 25; ++i) {
    const double w = (c[i][2] - c[i][0]).item<double>(), h = (c[i][3] - c[i][1]).item<double>();
    areas.insert(std::lround(std::sqrt(w * h)));
  }
  EXPECT_EQ(areas, (std::set<long>{32, 64, 128, 256, 512}));
  EXPECT_THROW(AnchorGenerator(AnchorOptions{{}, {1.0}, 16}), std::invalid_argument);
}

TEST(BoxCoder, HandCaseAndRoundTrip) {
  BoxCoder coder({10, 10, 5, 5});
  auto ref = torch::tensor({{0.f, 0.f, 10.f, 20.f}});
  auto box = torch::tensor({{2.f, 4.f, 12.f, 44.f}});
  auto d = coder.encode(box, ref);
  // centres (5,10) -> (7,24); sizes (10,20) -> (10,40)
  EXPECT_NEAR(d[0][0].item<double>(), 10 * 2.0 / 10, 1e-5);
  EXPECT_NEAR(d[0][1].item<double>(), 10 * 14.0 / 20, 1e-5);
  EXPECT_NEAR(d[0][2].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(d[0][3].item<double>(), 5 * std::log(2.0), 1e-5);
  torch::manual_seed(1);
  auto refs = torch::rand({100, 2}) * 100;
  refs = torch::cat({refs, refs + torch::rand({100, 2}) * 50 + 1}, 1);
  auto boxes = torch::rand({100, 2}) * 100;
  boxes = torch::cat({boxes, boxes + torch::rand({100, 2}) * 50 + 1}, 1);
  auto back = coder.decode(coder.encode(boxes, refs), refs);
  EXPECT_TRUE(torch::allclose(back, boxes, 1e-4, 1e-3));
}

TEST(BoxCoder, DecodeClampsHugeSizes) {
  BoxCoder coder;
  auto ref = torch::tensor({{0.f, 0.f, 16.f, 16.f}});
  auto out = coder.decode(torch::tensor({{0.f, 0.f, 100.f, 100.f}}), ref);
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_NEAR((out[0][2] - out[0][0]).item<double>(), 1000.0, 1e-2);
  auto clipped = clip_boxes(torch::tensor({{-5.f, -1.f, 30.f, 50.f}}), 20, 40);
  EXPECT_TRUE(torch::equal(clipped, torch::tensor({{0.f, 0.f, 20.f, 40.f}})));
}

// Untracked float tensors take a scalar loop; tracked ones (and doubles) the tensor ops. Both must agree,
// including k boxes per reference, clamped sizes and NaN passing through clipping.
TEST(BoxCoder, ScalarLoopMatchesTensorOps) {
  BoxCoder coder({10, 10, 5, 5});
  torch::manual_seed(3);
  auto refs = torch::rand({50, 2}) * 300;
  refs = torch::cat({refs, refs + torch::rand({50, 2}) * 80 + 1}, 1);
  auto deltas = torch::randn({50, 4 * 3}) * 4;
  deltas[7][2] = 200.f;  // beyond the clamp
  auto fast = coder.decode(deltas, refs);
  auto tracked = coder.decode(deltas.clone().requires_grad_(), refs).detach();
  auto dbl = coder.decode(deltas.to(torch::kDouble), refs.to(torch::kDouble));
  EXPECT_TRUE(torch::allclose(fast, tracked, 1e-5, 1e-3));
  EXPECT_TRUE(torch::allclose(fast.to(torch::kDouble), dbl, 1e-5, 1e-2));
  auto boxes = fast.reshape({-1, 4});
  boxes[0][1] = std::numeric_limits<float>::quiet_NaN();
  auto clipped = clip_boxes(boxes, 320, 240);
  auto clipped_tracked = clip_boxes(boxes.clone().requires_grad_(), 320, 240).detach();
  EXPECT_TRUE(torch::equal(clipped.isnan(), clipped_tracked.isnan()));
  EXPECT_TRUE(torch::equal(clipped.nan_to_num(-1), clipped_tracked.nan_to_num(-1)));
  EXPECT_EQ(clipped.sizes(), boxes.sizes());
}

TEST(Matcher, ThresholdsAndLowQualityMatches) {
  // 2 ground truths x 5 references.
  auto iou = torch::tensor({{0.80f, 0.50f, 0.20f, 0.00f, 0.00f}, {0.10f, 0.60f, 0.25f, 0.65f, 0.00f}});
  MatcherOptions o{0.7, 0.3, false};
  auto m = match_boxes(iou, 5, o);
  std::vector<int64_t> expect = {0, Match::kIgnore, Match::kBackground, Match::kIgnore, Match::kBackground};
  EXPECT_EQ(std::vector<int64_t>(m.index.data_ptr<int64_t>(), m.index.data_ptr<int64_t>() + 5), expect);
  o.allow_low_quality = true;
  m = match_boxes(iou, 5, o);
  // ground truth 1's best IoU is 0.65 at reference 3: that reference becomes its positive.
  expect = {0, Match::kIgnore, Match::kBackground, 1, Match::kBackground};
  EXPECT_EQ(std::vector<int64_t>(m.index.data_ptr<int64_t>(), m.index.data_ptr<int64_t>() + 5), expect);
  auto none = match_boxes(torch::zeros({0, 3}), 3, o);
  EXPECT_TRUE((none.index == Match::kBackground).all().item<bool>());
}

TEST(Sampler, RespectsBatchAndFraction) {
  torch::manual_seed(0);
  auto idx = torch::full({1000}, Match::kBackground, torch::kInt64);
  idx.narrow(0, 0, 300).fill_(0);
  idx.narrow(0, 300, 100).fill_(Match::kIgnore);
  auto [pos, neg] = sample_balanced(idx, 256, 0.5);
  EXPECT_EQ(pos.numel(), 128);
  EXPECT_EQ(neg.numel(), 128);
  EXPECT_TRUE((idx.index_select(0, pos) >= 0).all().item<bool>());
  EXPECT_TRUE((idx.index_select(0, neg) == Match::kBackground).all().item<bool>());
  EXPECT_EQ(std::get<0>(torch::_unique(pos)).numel(), 128);
  // Few positives: negatives fill the batch.
  idx.narrow(0, 0, 300).fill_(Match::kBackground);
  idx[7] = 1;
  std::tie(pos, neg) = sample_balanced(idx, 256, 0.5);
  EXPECT_EQ(pos.numel(), 1);
  EXPECT_EQ(neg.numel(), 255);
}

TEST(LrSchedule, WarmupStepsAndCosine) {
  LrScheduleOptions o;
  o.base = 0.1;
  o.warmup_steps = 10;
  o.warmup_factor = 0.01;
  o.step_epochs = {2, 3};
  LrSchedule s(o, 10, 4);
  EXPECT_NEAR(s.at(0), 0.001, 1e-12);
  EXPECT_NEAR(s.at(5), 0.1 * (0.01 * 0.5 + 0.5), 1e-12);
  EXPECT_NEAR(s.at(10), 0.1, 1e-12);
  EXPECT_NEAR(s.at(19), 0.1, 1e-12);
  EXPECT_NEAR(s.at(20), 0.01, 1e-12);
  EXPECT_NEAR(s.at(35), 0.001, 1e-12);
  o.kind = "cosine";
  o.warmup_steps = 0;
  o.min_factor = 0.1;
  LrSchedule c(o, 10, 4);
  EXPECT_NEAR(c.at(0), 0.1, 1e-12);
  EXPECT_NEAR(c.at(39), 0.01, 1e-12);
  EXPECT_NEAR(c.at(19), 0.1 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * 19 / 39.0))), 1e-12);
  o.kind = "linear";
  EXPECT_THROW(LrSchedule(o, 10, 4), std::invalid_argument);
}

TEST(TrainOptions, ConfigTextRoundTripsAndNamesBadKeys) {
  TrainOptions o;
  o.data = "some dir/with \"quotes\"";
  o.multiscale = {240, 320, 480};
  o.schedule.step_epochs = {8, 11};
  o.schedule.base = 0.02;
  o.ema = 0.9998;
  o.freeze_bn = true;
  o.optimizer = "adamw";
  o.seed = 12345678901ULL;
  auto back = from_config_text(to_config_text(o), "x.toml");
  EXPECT_EQ(back.data, o.data);
  EXPECT_EQ(back.multiscale, o.multiscale);
  EXPECT_EQ(back.schedule.step_epochs, o.schedule.step_epochs);
  EXPECT_EQ(back.schedule.base, 0.02);
  EXPECT_EQ(back.ema, 0.9998);
  EXPECT_TRUE(back.freeze_bn);
  EXPECT_EQ(back.optimizer, "adamw");
  EXPECT_EQ(back.seed, o.seed);
  EXPECT_EQ(to_config_text(back), to_config_text(o));
  try {
    from_config_text("epochs=3\nbogus=1\n", "run/options.toml");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("run/options.toml:2"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos);
  }
  EXPECT_THROW(from_config_text("epochs=many\n", "x"), std::invalid_argument);
}

// The options `cvtk train` chooses from the data (train_defaults.h) and the --time plan
// (time_budget.h), by hand: the rules' boundaries and the arithmetic of the plan.
#include "detection/train_defaults.h"

#include <gtest/gtest.h>

#include "detection/time_budget.h"

using namespace cvtk;
using namespace cvtk::detection;

namespace {

// n images of w x h, each with `per_image` boxes of side `box` px.
data::Dataset boxes_of(int n, int w, int h, int per_image, double box) {
  data::Dataset d;
  d.classes = {"a"};
  for (int i = 0; i < n; ++i) {
    data::ImageRecord im;
    im.id = i + 1;
    im.width = w;
    im.height = h;
    for (int k = 0; k < per_image; ++k) im.objects.push_back({{0, 0, box, box}, 0});
    d.images.push_back(im);
  }
  return d;
}

const DefaultChoice* find(const std::vector<DefaultChoice>& c, const std::string& flag) {
  for (const auto& x : c)
    if (x.flag == flag) return &x;
  return nullptr;
}

}  // namespace

TEST(TrainDefaults, SizeKeepsATenthOfTheBoxesAt24Pixels) {
  // 640x480 with 40 px boxes: short side relative to the width 40/640; 24 / (40/640) = 384.
  TrainOptions o;
  auto c = resolve_train_defaults(o, boxes_of(10, 640, 480, 3, 40));
  EXPECT_EQ(o.size, 384);
  ASSERT_NE(find(c, "--size"), nullptr);
  EXPECT_NE(find(c, "--size")->reason.find("at 384 they span 24 px"), std::string::npos) << find(c, "--size")->reason;
  // Large boxes: the smallest size chosen.
  o = TrainOptions();
  resolve_train_defaults(o, boxes_of(10, 640, 480, 3, 200));
  EXPECT_EQ(o.size, 320);
  // Tiny boxes: capped at 640, and the reason says what it would take.
  o = TrainOptions();
  c = resolve_train_defaults(o, boxes_of(10, 2000, 1500, 3, 20));
  EXPECT_EQ(o.size, 640);
  EXPECT_NE(find(c, "--size")->reason.find("give --size"), std::string::npos);
  // Images smaller than 320 are not enlarged past their own (rounded) size.
  o = TrainOptions();
  resolve_train_defaults(o, boxes_of(10, 160, 128, 1, 60));
  EXPECT_EQ(o.size, 160);
}

TEST(TrainDefaults, SizeFollowsTheClassOfSmallestBoxes) {
  // 300 boxes of 100 px in class a and 20 of 30 px in class b (6% of all boxes, so the tenth-smallest
  // box overall is a's): b decides, 24 / (30 / 640) = 512.
  auto d = boxes_of(10, 640, 480, 30, 100);
  d.classes = {"a", "b"};
  for (int i = 0; i < 10; ++i)
    for (int k = 0; k < 2; ++k) d.images[size_t(i)].objects.push_back({{0, 0, 30, 30}, 1});
  TrainOptions o;
  auto c = resolve_train_defaults(o, d);
  EXPECT_EQ(o.size, 512);
  EXPECT_NE(find(c, "--size")->reason.find("a tenth of the b boxes (the smallest class)"), std::string::npos)
      << find(c, "--size")->reason;
  // Fewer than 10 boxes of b: too few to measure, a decides (24 / (100 / 640) = 154 -> the smallest, 320).
  for (auto& im : d.images) im.objects.resize(im.objects.size() - (im.id <= 6 ? 2 : 0));
  o = TrainOptions();
  resolve_train_defaults(o, d);
  EXPECT_EQ(o.size, 320);
}

TEST(TrainDefaults, RoisFollowTheObjectsPerImage) {
  TrainOptions o;
  resolve_train_defaults(o, boxes_of(4, 640, 480, 1, 100));
  EXPECT_EQ(o.rcnn_rois, 64);  // 32 per object, at least 64
  o = TrainOptions();
  resolve_train_defaults(o, boxes_of(4, 640, 480, 3, 100));
  EXPECT_EQ(o.rcnn_rois, 128);  // 96 -> the next power of two
  o = TrainOptions();
  resolve_train_defaults(o, boxes_of(4, 640, 480, 40, 100));
  EXPECT_EQ(o.rcnn_rois, 512);  // at most 512
}

TEST(TrainDefaults, EpochsLrWarmupAndEma) {
  TrainOptions o;
  o.batch = 4;
  auto c = resolve_train_defaults(o, boxes_of(300, 640, 480, 2, 60), 75);
  EXPECT_EQ(o.epochs, 40);  // 12000 / 300
  EXPECT_EQ(o.schedule.kind, "cosine");
  EXPECT_DOUBLE_EQ(o.schedule.base, 0.05);     // 0.1 x 4 / 8
  EXPECT_EQ(o.schedule.warmup_steps, 150);     // two epochs of 75 steps
  const EmaSetting e = ema_defaults(75 * 40);  // 3000 steps: horizon 300, ramp 150
  EXPECT_DOUBLE_EQ(o.ema, e.decay);
  EXPECT_DOUBLE_EQ(e.decay, 1 - 1 / 300.0);
  EXPECT_DOUBLE_EQ(o.ema_ramp, 150);
  EXPECT_EQ(o.pipeline, "thundernet-train");
  for (const char* flag :
       {"--size", "--rcnn-rois", "--epochs", "--schedule", "--lr", "--warmup", "--ema", "--pipeline"})
    EXPECT_NE(find(c, flag), nullptr) << flag;

  // Fine-tuning from given weights: a fifth of the rate; AdamW its own base.
  o = TrainOptions();
  o.init_weights = "w.pt";
  o.optimizer = "adamw";
  resolve_train_defaults(o, boxes_of(30, 640, 480, 2, 60));
  EXPECT_DOUBLE_EQ(o.schedule.base, 0.001 * 0.2);
  EXPECT_EQ(o.epochs, 300);  // 12000 / 30 = 400, at most 300
  EXPECT_EQ(o.schedule.warmup_steps, 100);
}

TEST(TrainDefaults, GivenValuesAreKeptAndNotListed) {
  TrainOptions o;
  o.size = 512;
  o.rcnn_rois = 256;
  o.epochs = 3;
  o.schedule.base = 0.02;
  o.schedule.kind = "step";
  o.schedule.warmup_steps = 0;
  o.ema = 0;
  o.pipeline = "eval";
  const auto c = resolve_train_defaults(o, boxes_of(10, 640, 480, 3, 40));
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(o.size, 512);
  EXPECT_EQ(o.rcnn_rois, 256);
  EXPECT_EQ(o.epochs, 3);
  EXPECT_DOUBLE_EQ(o.schedule.base, 0.02);
  EXPECT_EQ(o.schedule.warmup_steps, 0);
  EXPECT_DOUBLE_EQ(o.ema, 0);
  // Resolved options pass the checks and survive options.toml.
  EXPECT_NO_THROW(check_train_options(o));
}

TEST(TimeBudget, PlansTheEpochsThatFit) {
  Pace p;
  p.budget_s = 600;
  p.elapsed_s = 10;
  p.steps_per_epoch = 10;
  p.steps_done_in_epoch = 4;
  p.step_s = 1;
  p.validation_s = 5;
  // Limit 588: epoch 1 ends at 10 + 6 + 5 = 21; each further epoch adds 15: 21 + 15 k <= 588 -> k = 37.
  EpochPlan e = plan_epochs(p);
  EXPECT_EQ(e.epochs, 38);
  EXPECT_DOUBLE_EQ(e.finish_s, 21 + 15 * 37);
  EXPECT_TRUE(e.fits);
  // Validation every 4th epoch and after the last: E epochs finish at
  // 10 + 6 + 10 (E - 1) + 5 (floor(E / 4) + (E % 4 != 0)); the largest E within 588, by enumeration.
  p.val_every = 4;
  e = plan_epochs(p);
  double f = 0;
  int best = 1;
  for (int E = 1; E < 100; ++E) {
    const double v = 10 + 6 + 10.0 * (E - 1) + 5.0 * (E / 4 + (E % 4 != 0));
    if (v <= 588) best = E, f = v;
  }
  EXPECT_EQ(e.epochs, best);
  EXPECT_DOUBLE_EQ(e.finish_s, f);
}

TEST(TimeBudget, AnEpochEndMayEndTheRunAndATooShortBudgetSaysSo) {
  Pace p;
  p.budget_s = 100;
  p.elapsed_s = 95;
  p.epochs_done = 2;  // epoch 3 has all its steps done: only its validation is left
  p.steps_per_epoch = 10;
  p.steps_done_in_epoch = 10;
  p.step_s = 1;
  p.validation_s = 1;
  EpochPlan e = plan_epochs(p);
  EXPECT_EQ(e.epochs, 3);
  EXPECT_TRUE(e.fits);  // 96 <= 98
  p.elapsed_s = 99;
  e = plan_epochs(p);
  EXPECT_EQ(e.epochs, 3);
  EXPECT_FALSE(e.fits);
  EXPECT_NE(describe(e, p).find("too short"), std::string::npos);
  // Without validation the validations cost nothing; an unmeasured pace plans the current epoch only.
  p.elapsed_s = 0;
  p.validates = false;
  p.step_s = 0;
  EXPECT_EQ(plan_epochs(p).epochs, 3);
}

TEST(TimeBudget, PastHalfTheRunAPlanOnlyShrinks) {
  Pace p;
  p.budget_s = 1000;
  p.steps_per_epoch = 10;
  p.step_s = 1;
  p.validates = false;
  p.epochs_done = 4;
  p.steps_done_in_epoch = 10;
  p.elapsed_s = 50;  // 5 epochs of 10 s done: 94 more fit (limit 980)
  EXPECT_EQ(plan_epochs(p).epochs, 98);
  p.planned_epochs = 20;  // 5 of 20 done: still in the first half, may grow
  EXPECT_EQ(plan_epochs(p).epochs, 98);
  p.planned_epochs = 8;  // past half: stays 8
  EXPECT_EQ(plan_epochs(p).epochs, 8);
  p.elapsed_s = 975;  // and shrinks when the pace says so
  EXPECT_EQ(plan_epochs(p).epochs, 5);
}

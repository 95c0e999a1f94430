// Training, resuming and prediction end to end on a tiny synthetic dataset.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include <unistd.h>

#include "augment/loader.h"
#include "augment/pipeline.h"
#include "detection/checkpoint.h"
#include "detection/predictor.h"
#include "detection/run_model.h"
#include "detection/trainer.h"
#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/synth.h"
#include "vision/image/decode.h"

using namespace cvtk;
using namespace cvtk::detection;

namespace {

// 12 training and 4 validation images of 240x160 (not square, so the stretch to the input is not uniform).
std::filesystem::path tiny_dataset() {
  static std::filesystem::path dir;
  if (dir.empty()) {
    // Per process: ctest runs this binary's tests in parallel processes.
    dir = cvtk::testing::scratch_dir("tiny_shapes_" + std::to_string(::getpid())) / "shapes";
    data::SynthOptions o;
    o.train_images = 12;
    o.val_images = 4;
    o.width = 240;
    o.height = 160;
    o.max_size = 64;
    o.seed = 3;
    data::write_synthetic_dataset(dir, o);
  }
  return dir;
}

TrainOptions tiny_options(const std::filesystem::path& out) {
  TrainOptions o;
  o.data = tiny_dataset();
  o.epochs = 2;
  o.batch = 4;
  o.size = 128;
  o.schedule.base = 0.01;
  o.schedule.warmup_steps = 2;
  o.ema = 0.9;
  o.threads = 1;
  o.loader_threads = 2;
  o.out = out;
  o.log_every = 1000;
  return o;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(Train, RunsAndWritesCheckpointsAndLogs) {
  auto dir = cvtk::testing::scratch_dir("train_basic");
  std::FILE* log = std::tmpfile();
  auto r = train(tiny_options(dir), log);
  EXPECT_EQ(r.epochs_done, 2);
  EXPECT_EQ(r.steps, 6);  // 12 images / batch 4 = 3 steps per epoch
  EXPECT_FALSE(r.interrupted);
  EXPECT_TRUE(std::filesystem::exists(dir / "best.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "last.pt"));
  EXPECT_GE(r.last_map50, 0);
  const auto csv = slurp(dir / "results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);  // header + 2 epochs
  const auto jsonl = slurp(dir / "results.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 2);
  EXPECT_NE(jsonl.find("\"val_coco_ap\""), std::string::npos);
  // options.toml reads back to the same options.
  auto saved = from_config_text(slurp(dir / "options.toml"), "options.toml");
  EXPECT_EQ(saved.epochs, 2);
  EXPECT_EQ(saved.size, 128);
  std::fclose(log);
}

// Runs tiny_options with `optimizer` straight through and again interrupted inside epoch 2 and
// resumed; the final weights (and EMA) must be bit-identical.
void expect_exact_resume(const std::string& optimizer) {
  auto a = cvtk::testing::scratch_dir("train_uninterrupted_" + optimizer), b = cvtk::testing::scratch_dir("train_interrupted_" + optimizer);
  std::FILE* log = std::tmpfile();
  auto first = tiny_options(a);
  first.optimizer = optimizer;
  if (optimizer == "adamw") first.schedule.base = 1e-3;
  auto full = train(first, log);
  auto o = first;
  o.out = b;
  o.max_steps = 4;  // stops inside epoch 2 (3 steps per epoch)
  auto part = train(o, log);
  EXPECT_TRUE(part.interrupted);
  EXPECT_EQ(part.steps, 4);
  auto mid = read_checkpoint(b / "last.pt");
  EXPECT_EQ(mid.state.epoch, 1);
  EXPECT_EQ(mid.state.batch_in_epoch, 1);
  TrainOptions resume;
  resume.resume = b;
  resume.epochs = 0;
  auto rest = train(resume, log);
  EXPECT_EQ(rest.steps, full.steps);
  auto ca = read_checkpoint(a / "last.pt"), cb = read_checkpoint(b / "last.pt");
  ASSERT_EQ(ca.model.size(), cb.model.size());
  for (size_t i = 0; i < ca.model.size(); ++i)
    EXPECT_TRUE(torch::equal(ca.model[i].second, cb.model[i].second)) << ca.model[i].first;
  for (size_t i = 0; i < ca.ema.size(); ++i)
    EXPECT_TRUE(torch::equal(ca.ema[i].second, cb.ema[i].second)) << "ema " << ca.ema[i].first;
  EXPECT_EQ(full.last_map50, rest.last_map50);
  std::fclose(log);
}

TEST(Train, ResumeContinuesExactlyAsAnUninterruptedRun) { expect_exact_resume("sgd"); }

TEST(Train, ResumeWithAdamWRestoresItsMoments) { expect_exact_resume("adamw"); }

TEST(Train, NonFiniteLossStopsWithImageIdsAndKeepsTheCheckpoint) {
  auto dir = cvtk::testing::scratch_dir("train_nan");
  auto o = tiny_options(dir);
  o.epochs = 3;
  o.schedule.base = 1e30;  // diverges within a few steps
  o.schedule.warmup_steps = 0;
  o.val_split = "none";
  std::FILE* log = std::tmpfile();
  try {
    train(o, log);
    FAIL() << "expected a non-finite loss";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("non-finite loss"), std::string::npos) << m;
    EXPECT_NE(m.find("images"), std::string::npos) << m;
  }
  std::fclose(log);
}

TEST(Train, BadInputIsNamed) {
  auto dir = cvtk::testing::scratch_dir("train_bad");
  auto o = tiny_options(dir);
  o.model = "thundernet-nonet";
  EXPECT_THROW(train(o, std::tmpfile()), std::invalid_argument);
  o = tiny_options(dir);
  o.data = dir / "missing";
  try {
    train(o, std::tmpfile());
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  o = tiny_options(dir);
  o.resume = dir / "no_run";
  EXPECT_THROW(train(o, std::tmpfile()), std::runtime_error);
}

TEST(Predict, BoxesGoBackToOriginalImageCoordinates) {
  torch::manual_seed(0);
  ModelInfo info;
  info.classes = data::synth_class_names();
  auto o = thundernet_options(info);
  o.rcnn.score_threshold = 0.0;  // an untrained model: keep everything so there is something to compare
  ThunderNet model(o);
  model->eval();
  data::ReadOptions ro;
  ro.split = "val";
  auto ds = data::read_dataset(tiny_dataset(), ro);
  PredictOptions po;
  po.size = 128;
  po.batch = 3;
  po.score_threshold = 0;
  auto dets = predict_dataset(model, ds, po);
  ASSERT_FALSE(dets.empty());
  // The same image through the pipeline by hand: detections scaled by 240/128 and 160/128.
  const auto& rec = ds.images[1];
  auto sample = augment::make_sample(rec, 1, image::decode_image(ds.image_root / rec.file).image);
  augment::Rng rng(0, 0, 1);
  augment::pipeline_from_text("eval").apply(sample, rng, {128, 128});
  auto x = augment::to_tensor(sample.image, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}).unsqueeze(0);
  auto direct = model->detect(x)[0];
  std::vector<data::Detection> mine;
  for (const auto& d : dets)
    if (d.image_id == rec.id) mine.push_back(d);
  ASSERT_EQ(int64_t(mine.size()), direct.boxes.size(0));
  for (size_t k = 0; k < mine.size(); ++k) {
    EXPECT_NEAR(mine[k].box.x1, direct.boxes[k][0].item<double>() * 240.0 / 128, 1e-3);
    EXPECT_NEAR(mine[k].box.y2, direct.boxes[k][3].item<double>() * 160.0 / 128, 1e-3);
    EXPECT_LE(mine[k].box.x2, 240.0);
    EXPECT_LE(mine[k].box.y2, 160.0);
  }
}

TEST(Predict, WritesResultsAndDrawings) {
  auto dir = cvtk::testing::scratch_dir("predict_files");
  ModelInfo info;
  info.classes = data::synth_class_names();
  info.size = 128;
  ThunderNet model(thundernet_options(info));
  save_checkpoint(dir / "m.pt", info, model, nullptr, nullptr, {}, "");
  PredictFilesOptions o;
  o.weights = dir / "m.pt";
  o.source = tiny_dataset() / "JPEGImages";
  o.out = dir / "out";
  o.score_threshold = 0.0;
  o.max_drawn = 3;
  std::ostringstream msg;
  EXPECT_EQ(run_predict(o, msg), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "predictions.json"));
  const auto csv = slurp(dir / "out" / "images.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 17);  // header + 16 images
  int drawn = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "out" / "images")) drawn += e.path().extension() == ".jpg";
  EXPECT_EQ(drawn, 3);
  o.source = dir / "nothing_here";
  EXPECT_THROW(run_predict(o, msg), std::runtime_error);
}


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
#include "metrics/evaluate.h"
#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/synth.h"
#include "vision/image/decode.h"

#include <opencv2/imgcodecs.hpp>

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
  const auto csv = cvtk::testing::read_file(dir / "results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);  // header + 2 epochs
  const auto jsonl = cvtk::testing::read_file(dir / "results.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 2);
  EXPECT_NE(jsonl.find("\"val_coco_ap\""), std::string::npos);
  // options.toml reads back to the same options.
  auto saved = from_config_text(cvtk::testing::read_file(dir / "options.toml"), "options.toml");
  EXPECT_EQ(saved.epochs, 2);
  EXPECT_EQ(saved.size, 128);
  std::fclose(log);
}

// Runs tiny_options with `optimizer` straight through and again interrupted inside epoch 2 and
// resumed; the final weights (and EMA) must be bit-identical.
void expect_exact_resume(const std::string& optimizer) {
  auto a = cvtk::testing::scratch_dir("train_uninterrupted_" + optimizer),
       b = cvtk::testing::scratch_dir("train_interrupted_" + optimizer);
  std::FILE* log = std::tmpfile();
  auto first = tiny_options(a);
  first.optimizer = optimizer;
  if (optimizer == "adamw") first.schedule.base = 1e-3;
  auto full = train(first, log);
  auto o = first;
  o.out = b;
  o.max_steps = 4;  // stops inside epoch 2 (3 steps per epoch)
  auto part = train(o, log);
  EXPECT_FALSE(part.interrupted);  // a step limit is not a signal
  EXPECT_TRUE(part.stopped_early);
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

// A non-finite loss stops the run with one line naming the epoch, the step, the four terms and the
// images; the last good checkpoint is left as it was and no temporary file is left beside it. A run
// that fails before its first checkpoint leaves no run directory.
TEST(Train, NonFiniteLossStopsWithImageIdsAndKeepsTheCheckpoint) {
  auto dir = cvtk::testing::scratch_dir("train_nan") / "run";
  auto o = tiny_options(dir);
  o.epochs = 3;
  o.schedule.kind = "step";
  o.schedule.step_epochs = {1};
  o.schedule.gamma = 1e32;  // epoch 1 trains normally, epoch 2 diverges at once
  o.schedule.warmup_steps = 0;
  o.val_split = "none";
  std::FILE* log = std::tmpfile();
  try {
    train(o, log);
    FAIL() << "expected a non-finite loss";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    for (const char* part : {"non-finite loss", "at epoch 2, step", "rpn_objectness", "rpn_box", "rcnn_classification",
                             "rcnn_box", "images", "last.pt is the last good checkpoint"})
      EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  EXPECT_EQ(read_checkpoint(dir / "last.pt").state.epoch, 1);
  for (auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find("tmp"), std::string::npos) << e.path();
  // Diverging in the first epoch: nothing kept.
  auto first = tiny_options(dir.parent_path() / "first");
  first.schedule.base = 1e30;
  first.schedule.warmup_steps = 0;
  first.val_split = "none";
  try {
    train(first, log);
    FAIL() << "expected a non-finite loss";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint had been written"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.parent_path() / "first"));
  // The same into a directory that existed, empty: it is left as it was (augmented/ included).
  std::filesystem::create_directories(first.out);
  try {
    train(first, log);
    FAIL() << "expected a non-finite loss";
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(std::filesystem::is_empty(first.out));
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

// The figures validation prints for the last epoch are the figures of evaluating last.pt afterwards,
// exactly: validation runs the checkpoint's model the one way inference builds it (a fresh executor
// from the weights; an executor kept across optimiser steps would go stale, thundernet_test
// RebuiltExecutorFollowsSgdSteps).
void expect_validation_equals_checkpoint_eval(double ema) {
  SCOPED_TRACE(ema);
  // One directory per case: CTest may run the two cases at once.
  auto dir = cvtk::testing::scratch_dir("train_same_numbers_ema" + std::to_string(ema > 0));
  auto o = tiny_options(dir);
  o.ema = ema;
  o.epochs = 3;
  o.schedule.base = 0.02;
  std::FILE* log = std::tmpfile();
  auto r = train(o, log);
  std::fclose(log);
  const auto w = read_inference_weights(r.last);
  EXPECT_EQ(w.info.inference.describe(), "size 128, score >= 0.05, NMS 0.5, max 100 per image, pipeline eval");
  auto model = inference_model(w.info, w.info.inference, w.weights);
  data::ReadOptions ro;
  ro.split = "val";
  const auto val = data::read_dataset(tiny_dataset(), ro);
  PredictOptions po;
  po.inference = w.info.inference;
  po.batch = 4;
  const auto dets = predict_dataset(model, val, po);
  ASSERT_FALSE(dets.empty());
  EXPECT_EQ(metrics::evaluate(val, dets, metrics::voc_protocol()).headline(), r.last_map50);
  EXPECT_EQ(metrics::evaluate(val, dets, metrics::coco_protocol()).headline(), r.last_coco_ap);
}

TEST(Train, ValidationEqualsEvaluatingTheCheckpoint) { expect_validation_equals_checkpoint_eval(0); }

TEST(Train, ValidationWithEmaEqualsEvaluatingTheCheckpoint) { expect_validation_equals_checkpoint_eval(0.9); }

// Reaching --max-steps is a successful stop, not an interruption, and the result names only the
// checkpoints that exist (no best.pt inside the first epoch).
TEST(Train, MaxStepsStopsWithoutInterruptionAndNamesExistingFiles) {
  auto dir = cvtk::testing::scratch_dir("train_max_steps") / "run";
  auto o = tiny_options(dir);
  o.max_steps = 2;
  std::FILE* log = std::tmpfile();
  auto r = train(o, log);
  EXPECT_FALSE(r.interrupted);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.stop_reason, "step limit reached");
  EXPECT_TRUE(r.best.empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "best.pt"));
  ASSERT_FALSE(r.last.empty());
  EXPECT_TRUE(std::filesystem::exists(r.last));
  std::rewind(log);
  std::string text;
  for (int c; (c = std::fgetc(log)) != EOF;) text += char(c);
  std::fclose(log);
  const auto final_line = text.substr(text.rfind("\n", text.size() - 2) + 1);
  EXPECT_EQ(final_line.find("best"), std::string::npos) << final_line;
  EXPECT_NE(final_line.find("last " + r.last.string()), std::string::npos) << final_line;
}

// A new run never writes into a directory holding an earlier one: it takes run2, run3; --exist-ok
// writes into it. Options are checked before anything is created: a bad pipeline, model or dataset
// leaves no directory behind.
TEST(Train, OutputDirectoryIsNumberedAndCreatedOnlyWhenValid) {
  auto base = cvtk::testing::scratch_dir("train_out_dir");
  std::FILE* log = std::tmpfile();
  auto o = tiny_options(base / "run");
  o.max_steps = 1;
  o.val_split = "none";
  EXPECT_EQ(train(o, log).out, base / "run");
  EXPECT_EQ(train(o, log).out, base / "run2");
  o.exist_ok = true;
  EXPECT_EQ(train(o, log).out, base / "run");
  EXPECT_FALSE(std::filesystem::exists(base / "run3"));
  auto bad = tiny_options(base / "bad");
  bad.pipeline = "hflip(p=2)";
  EXPECT_THROW(train(bad, log), std::invalid_argument);
  bad = tiny_options(base / "bad");
  bad.model = "thundernet-nonet";
  EXPECT_THROW(train(bad, log), std::invalid_argument);
  bad = tiny_options(base / "bad");
  bad.multiscale = {128, 0};
  EXPECT_THROW(train(bad, log), std::exception);
  bad = tiny_options(base / "bad");
  bad.score_threshold = 2;
  EXPECT_THROW(train(bad, log), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(base / "bad"));
  std::fclose(log);
}

// options.toml holds absolute paths, so a run started with relative paths resumes from anywhere.
TEST(Train, ResumesFromAnotherWorkingDirectory) {
  auto base = cvtk::testing::scratch_dir("train_resume_cwd");
  std::filesystem::create_directories(base / "data");
  std::filesystem::copy(tiny_dataset(), base / "data" / "shapes", std::filesystem::copy_options::recursive);
  std::filesystem::create_directories(base / "elsewhere");
  const auto cwd = std::filesystem::current_path();
  std::FILE* log = std::tmpfile();
  std::filesystem::current_path(base);
  auto o = tiny_options("run");
  o.data = "data/shapes";
  o.max_steps = 4;
  auto part = train(o, log);
  std::filesystem::current_path(base / "elsewhere");
  const auto saved = from_config_text(cvtk::testing::read_file(base / "run" / "options.toml"), "options.toml");
  TrainOptions resume;
  resume.resume = "../run";
  resume.epochs = 0;  // the saved run's length
  TrainResult rest;
  EXPECT_NO_THROW(rest = train(resume, log));
  std::filesystem::current_path(cwd);
  std::fclose(log);
  EXPECT_EQ(part.steps, 4);
  EXPECT_EQ(rest.steps, 6);
  EXPECT_EQ(rest.epochs_done, 2);
  EXPECT_TRUE(saved.data.is_absolute()) << saved.data;
  EXPECT_EQ(saved.data, base / "data" / "shapes");
  EXPECT_EQ(saved.out, base / "run");
  EXPECT_FALSE(std::filesystem::exists(base / "elsewhere" / "run"));
}

TEST(Predict, BoxesGoBackToOriginalImageCoordinates) {
  torch::manual_seed(0);
  ModelInfo info;
  info.classes = data::synth_class_names();
  info.inference.size = 128;
  info.inference.score_threshold = 0.0;  // an untrained model: keep everything so there is something to compare
  ThunderNet plain(thundernet_options(info));
  plain->eval();
  auto model = optimize_for_inference(plain);
  data::ReadOptions ro;
  ro.split = "val";
  auto ds = data::read_dataset(tiny_dataset(), ro);
  PredictOptions po;
  po.inference = info.inference;
  po.batch = 3;
  auto dets = predict_dataset(model, ds, po);
  ASSERT_FALSE(dets.empty());
  // The loader's first batch by hand (images 0, 1, 2 through the eval pipeline), so the model computes
  // exactly what it computed inside predict_dataset; image 1's detections scaled by 240/128 and 160/128.
  std::vector<torch::Tensor> inputs;
  for (size_t i = 0; i < 3; ++i) {
    const auto& rec = ds.images[i];
    auto sample = augment::make_sample(rec, i, image::decode_image(ds.image_root / rec.file).image);
    augment::Rng rng(0, 0, i);
    augment::pipeline_from_text("eval").apply(sample, rng, {128, 128});
    inputs.push_back(augment::to_tensor(sample.image, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}));
  }
  const auto& rec = ds.images[1];
  auto direct = model.detect(torch::stack(inputs))[1];
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
  // A model built with other inference options than the ones given is refused.
  po.inference.nms_iou = 0.6;
  EXPECT_THROW(predict_dataset(model, ds, po), std::invalid_argument);
}

namespace {

std::filesystem::path untrained_checkpoint(const std::filesystem::path& dir) {
  ModelInfo info;
  info.classes = data::synth_class_names();
  info.inference.size = 128;
  torch::manual_seed(0);
  ThunderNet model(thundernet_options(info));
  save_checkpoint(dir / "m.pt", info, model, nullptr, nullptr, {}, "");
  return dir / "m.pt";
}

size_t count_files(const std::filesystem::path& dir, const std::string& ext) {
  size_t n = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    n += e.is_regular_file() && e.path().extension() == ext;
  return n;
}

void copy_into(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::create_directories(to.parent_path());
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

TEST(Predict, WritesResultsAndDrawings) {
  auto dir = cvtk::testing::scratch_dir("predict_files");
  PredictFilesOptions o;
  o.weights = untrained_checkpoint(dir);
  o.source = tiny_dataset() / "JPEGImages";
  o.out = dir / "out";
  o.score_threshold = 0.0;
  o.max_drawn = 3;
  std::ostringstream msg;
  EXPECT_EQ(run_predict(o, msg), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "predictions.json"));
  const auto csv = cvtk::testing::read_file(dir / "out" / "images.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 17);  // header + 16 images
  EXPECT_EQ(count_files(dir / "out" / "images", ".jpg"), 3u);
  // The header states the inference configuration and that --score is the output threshold.
  EXPECT_NE(msg.str().find("inference: size 128, score >= 0, NMS 0.5, max 100 per image, pipeline eval"),
            std::string::npos)
      << msg.str();
  EXPECT_NE(msg.str().find("checkpoint's: size 128, score >= 0.05"), std::string::npos) << msg.str();
  o.source = dir / "nothing_here";
  EXPECT_THROW(run_predict(o, msg), std::runtime_error);
}

// An --out holding an earlier run is never overwritten: the next run goes to out2, out3; --exist-ok
// replaces the earlier output whole (nothing of it is left).
TEST(Predict, OutputsNeverOverwriteAnEarlierRun) {
  auto dir = cvtk::testing::scratch_dir("predict_numbered");
  PredictFilesOptions o;
  o.weights = untrained_checkpoint(dir);
  o.source = tiny_dataset() / "JPEGImages" / "val_00000.jpg";
  ASSERT_TRUE(std::filesystem::exists(o.source));
  o.out = dir / "out";
  std::ostringstream msg;
  run_predict(o, msg);
  std::ofstream(dir / "out" / "mine.txt") << "keep me";
  run_predict(o, msg);
  run_predict(o, msg);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "mine.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out2" / "predictions.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out3" / "predictions.json"));
  EXPECT_NE(msg.str().find("out3 (" + (dir / "out").string() + " is not empty)"), std::string::npos) << msg.str();
  o.exist_ok = true;
  run_predict(o, msg);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "predictions.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "mine.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out4"));
  // No staging directories left beside the outputs.
  for (auto& e : std::filesystem::directory_iterator(dir)) EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

// Two sources named a/x.jpg and b/x.jpg give one drawn image each, named by their paths relative to
// the source, with the extension made .jpg.
TEST(Predict, DrawnImagesAreNamedByRelativePath) {
  auto dir = cvtk::testing::scratch_dir("predict_names");
  const auto img = tiny_dataset() / "JPEGImages" / "val_00000.jpg";
  copy_into(img, dir / "src" / "a" / "x.jpg");
  copy_into(img, dir / "src" / "b" / "x.jpg");
  cv::imwrite((dir / "src" / "b" / "y.png").string(), cv::imread(img.string()));
  PredictFilesOptions o;
  o.weights = untrained_checkpoint(dir);
  o.source = dir / "src";
  o.out = dir / "out";
  std::ostringstream msg;
  run_predict(o, msg);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "images" / "a" / "x.jpg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "images" / "b" / "x.jpg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "images" / "b" / "y.jpg"));
  EXPECT_EQ(count_files(dir / "out" / "images", ".jpg"), 3u);
  EXPECT_NE(msg.str().find("3 drawn images"), std::string::npos) << msg.str();
  const auto csv = cvtk::testing::read_file(dir / "out" / "images.csv");
  EXPECT_NE(csv.find("b/y.png,240,160,images/b/y.jpg"), std::string::npos) << csv;
}

// A source with no readable image could not do its job: an error, and nothing written. Unreadable
// images among readable ones are skipped and listed.
TEST(Predict, NoReadableInputIsAnErrorAndWritesNothing) {
  auto dir = cvtk::testing::scratch_dir("predict_unreadable");
  PredictFilesOptions o;
  o.weights = untrained_checkpoint(dir);
  o.out = dir / "out";
  std::ostringstream msg;
  std::ofstream(dir / "empty.jpg").close();  // zero bytes
  const auto jpeg = cvtk::testing::read_file(tiny_dataset() / "JPEGImages" / "val_00000.jpg");
  std::ofstream(dir / "cut.jpg", std::ios::binary) << jpeg.substr(0, 200);      // truncated
  std::ofstream(dir / "clip.mp4", std::ios::binary) << std::string(4096, 'x');  // no container a reader knows
  for (const char* name : {"empty.jpg", "cut.jpg"}) {
    o.source = dir / name;
    try {
      run_predict(o, msg);
      ADD_FAILURE() << name << ": expected an error";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("no readable image"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(o.out)) << name;
  }
  o.source = dir / "clip.mp4";
  try {
    run_predict(o, msg);
    ADD_FAILURE() << "expected an error for a video";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("clip.mp4: cannot open the video"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(o.out));
  // One readable image beside the two bad ones: success, the bad ones listed.
  std::filesystem::create_directories(dir / "mixed");
  for (const char* name : {"empty.jpg", "cut.jpg"}) std::filesystem::copy_file(dir / name, dir / "mixed" / name);
  copy_into(tiny_dataset() / "JPEGImages" / "val_00000.jpg", dir / "mixed" / "good.jpg");
  o.source = dir / "mixed";
  std::ostringstream ok;
  EXPECT_EQ(run_predict(o, ok), 0);
  EXPECT_NE(ok.str().find("1 images (2 unreadable, skipped)"), std::string::npos) << ok.str();
  EXPECT_NE(ok.str().find("unreadable: "), std::string::npos) << ok.str();
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "predictions.json"));
}

// --time: the epochs are planned from the measured pace and the run ends with its schedule done
// (the rate decayed, to the cosine's floor on a steady pace), whatever the machine's speed; options.toml holds the
// planned length, so --resume and --config repeat it. No assertion on the wall time itself.
TEST(Train, TimeBudgetPlansTheEpochsSoTheScheduleEnds) {
  auto dir = cvtk::testing::scratch_dir("train_time");
  auto o = tiny_options(dir);
  o.epochs = 0;
  o.time_minutes = 0.2;
  o.schedule.kind = "cosine";
  o.ema = -1;  // unset: follows the planned length
  std::FILE* log = std::tmpfile();
  auto r = train(o, log);
  std::rewind(log);
  std::string text;
  for (int c; (c = std::fgetc(log)) != EOF;) text += char(c);
  std::fclose(log);
  EXPECT_NE(text.find("time: --time 0.2 min: "), std::string::npos) << text;
  EXPECT_NE(text.find("--ema "), std::string::npos) << text;  // listed among the chosen options
  EXPECT_FALSE(r.stopped_early);
  // options.toml repeats the plan: its epochs, and no budget to plan again from.
  const std::string toml = cvtk::testing::read_file(dir / "options.toml");
  EXPECT_NE(toml.find("\n# epochs planned by --time 0.2 from the measured pace\n"), std::string::npos) << toml;
  EXPECT_EQ(toml.rfind("# chosen from the training set: --rcnn-rois --epochs --ema --pipeline\n", 0), 0u) << toml;
  const auto saved = from_config_text(toml, "options.toml");
  EXPECT_GE(r.epochs_done, 1);
  EXPECT_EQ(r.epochs_done, saved.epochs);
  EXPECT_EQ(saved.time_minutes, 0);
  EXPECT_GT(saved.ema, 0);
  // The last row's rate: the end of the cosine, base x min-lr-factor.
  const auto csv = cvtk::testing::read_file(dir / "results.csv");
  std::istringstream rows(csv);
  std::string header, row, last;
  std::getline(rows, header);
  while (std::getline(rows, row))
    if (!row.empty()) last = row;
  std::vector<std::string> head, cells;
  for (std::stringstream h(header); std::getline(h, row, ',');) head.push_back(row);
  for (std::stringstream c(last); std::getline(c, row, ',');) cells.push_back(row);
  const auto lr_col = std::find(head.begin(), head.end(), "lr") - head.begin();
  ASSERT_LT(size_t(lr_col), cells.size()) << header;
  // On a steady pace the last plan is made before the last epoch and its rate ends at the cosine's
  // end; a machine that slows down near the end may shrink the plan to the epoch just finished, whose
  // rate then stopped short of it. Either way a run of 3 or more epochs ends well below its peak
  // (the warm-up is 2 steps).
  const double last_lr = std::stod(cells[size_t(lr_col)]);
  if (r.epochs_done >= 3) {
    EXPECT_LT(last_lr, 0.5 * o.schedule.base) << csv;
  }
  EXPECT_GE(last_lr, o.schedule.base * o.schedule.min_factor * (1 - 1e-4)) << csv;
  // The summary names both checkpoints' figures.
  EXPECT_NE(text.find("final weights (last.pt, EMA average): val mAP@0.5 "), std::string::npos) << text;
  EXPECT_NE(text.find("noise: "), std::string::npos) << text;
}

// cvtk train, eval --weights and predict as a user runs them: one checkpoint gives one set of numbers in
// all three, exit codes (a step limit is success, only a signal is 130), outputs that never overwrite an
// earlier run, failures that write nothing, and resuming from another working directory.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tests/apps/cli_run.h"
#include "tests/common.h"

namespace fs = std::filesystem;
using cvtk::testing::CliRun;
using cvtk::testing::run_cvtk;
using cvtk::testing::run_shell;

namespace {

// The training options every run here uses: tiny images, few RoIs, two threads.
const std::string kTiny =
    " --size 128 --batch 4 --rcnn-rois 64 --lr 0.02 --warmup 4 --threads 2 --loader-threads 2 --log-every 1";

// One synthetic dataset and one trained run shared by the tests of this file (training is the slow part).
class TrainPredictCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = cvtk::testing::process_scratch_dir("train_predict_cli");
    CliRun s = run_cvtk("synth " + cvtk::testing::quoted(dir_ / "shapes") +
                        " --train 16 --val 8 --width 128 --height 128 --seed 4");
    ASSERT_EQ(s.code, 0) << s.output;
    train_ = run_cvtk("train --data " + cvtk::testing::quoted(dir_ / "shapes") + " --epochs 3" + kTiny + " --out " +
                      cvtk::testing::quoted(dir_ / "run"));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static CliRun train_;
};
fs::path TrainPredictCli::dir_;
CliRun TrainPredictCli::train_;

// The headline numbers of a printed report, 4 decimals as printed: VOC07 mAP, VOC mAP, COCO AP.
struct Figures {
  std::string voc07, voc, coco;
};

Figures report_figures(const std::string& text) {
  Figures f;
  std::smatch m;
  std::string rest = text;
  const std::regex map_line(R"(\n  mAP +([0-9.]+))"), ap_line(R"(\n  AP +([0-9.]+)\n)");
  if (std::regex_search(rest, m, map_line)) {
    f.voc07 = m[1];
    rest = m.suffix();
  }
  if (std::regex_search(rest, m, map_line)) f.voc = m[1];
  if (std::regex_search(text, m, ap_line)) f.coco = m[1];
  return f;
}

}  // namespace

// The same checkpoint, the same numbers: the last epoch's validation == eval --weights last.pt ==
// predict's predictions.json (at the evaluation threshold) through eval --dets. Each header states the
// inference configuration.
TEST_F(TrainPredictCli, OneCheckpointOneNumber) {
  ASSERT_EQ(train_.code, 0) << train_.output;
  const std::string inference = "inference: size 128, score >= 0.05, NMS 0.5, max 100 per image, pipeline eval";
  EXPECT_NE(train_.output.find(inference), std::string::npos) << train_.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      train_.output, m, std::regex(R"(epoch 3/3: .*val mAP@0\.5 ([0-9.]+) \(VOC07 ([0-9.]+)\), COCO AP ([0-9.]+))")))
      << train_.output;
  const Figures trained{m[2], m[1], m[3]};

  CliRun eval = run_cvtk("eval --weights " + cvtk::testing::quoted(dir_ / "run" / "last.pt") + " --data " +
                         cvtk::testing::quoted(dir_ / "shapes") + " --split val --protocol all --threads 2");
  ASSERT_EQ(eval.code, 0) << eval.output;
  EXPECT_NE(eval.output.find(inference + " (the checkpoint's)"), std::string::npos) << eval.output;
  const Figures evaluated = report_figures(eval.output);

  CliRun predict =
      run_cvtk("predict --weights " + cvtk::testing::quoted(dir_ / "run" / "last.pt") + " --source " +
               cvtk::testing::quoted(dir_ / "shapes") + " --split val --score 0.05 --threads 2 --no-draw --out " +
               cvtk::testing::quoted(dir_ / "predict"));
  ASSERT_EQ(predict.code, 0) << predict.output;
  EXPECT_NE(predict.output.find(inference), std::string::npos) << predict.output;
  CliRun dets = run_cvtk("eval --gt " + cvtk::testing::quoted(dir_ / "shapes") + " --split val --dets " +
                         cvtk::testing::quoted(dir_ / "predict" / "predictions.json") + " --protocol all");
  ASSERT_EQ(dets.code, 0) << dets.output;
  const Figures predicted = report_figures(dets.output);

  EXPECT_EQ(trained.voc07, evaluated.voc07);
  EXPECT_EQ(trained.voc, evaluated.voc);
  EXPECT_EQ(trained.coco, evaluated.coco);
  EXPECT_EQ(evaluated.voc07, predicted.voc07);
  EXPECT_EQ(evaluated.voc, predicted.voc);
  EXPECT_EQ(evaluated.coco, predicted.coco);

  // predict's default threshold is a drawing choice, and its header says so.
  CliRun drawn = run_cvtk("predict --weights " + cvtk::testing::quoted(dir_ / "run" / "last.pt") + " --source " +
                          cvtk::testing::quoted(dir_ / "shapes") + " --split val --threads 2 --max-drawn 1 --out " +
                          cvtk::testing::quoted(dir_ / "predict_drawn"));
  ASSERT_EQ(drawn.code, 0) << drawn.output;
  EXPECT_NE(drawn.output.find("output: detections with score >= 0.3 (--score: the drawing and output threshold"),
            std::string::npos)
      << drawn.output;
}

// Reaching --max-steps is success (0), and the final line names only files that exist; the next run
// into the same --out goes to a numbered directory (--exist-ok: train_test.cpp). A run started with
// relative paths resumes from another working directory (options.toml holds absolute paths).
TEST_F(TrainPredictCli, StepLimitNumberingAndResumeFromAnotherDirectory) {
  const fs::path work = dir_ / "cwd_a", other = dir_ / "cwd_b";
  fs::create_directories(work);
  fs::create_directories(other);
  const std::string base =
      "train --data ../shapes --epochs 1" + kTiny + " --max-steps 2 --val-split none --out limited";
  CliRun first = run_cvtk(base, work.string());
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("step limit reached at epoch 1, step 2"), std::string::npos) << first.output;
  const auto last_line = first.output.substr(first.output.rfind("\ndone: ") + 1);
  EXPECT_EQ(last_line.find("best"), std::string::npos) << last_line;
  EXPECT_NE(last_line.find("last " + (work / "limited" / "last.pt").string()), std::string::npos) << last_line;
  EXPECT_FALSE(fs::exists(work / "limited" / "best.pt"));
  EXPECT_NE(
      cvtk::testing::read_file(work / "limited" / "options.toml").find("data=\"" + (dir_ / "shapes").string() + "\""),
      std::string::npos);

  CliRun second = run_cvtk(base, work.string());
  EXPECT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("out: limited2 (limited is not empty)"), std::string::npos) << second.output;
  EXPECT_TRUE(fs::exists(work / "limited2" / "last.pt"));

  CliRun rest = run_cvtk("train --resume ../cwd_a/limited", other.string());
  EXPECT_EQ(rest.code, 0) << rest.output;
  EXPECT_NE(rest.output.find("done: 1 epochs, 4 steps"), std::string::npos) << rest.output;
  EXPECT_TRUE(fs::exists(work / "limited" / "best.pt"));
  EXPECT_FALSE(fs::exists(other / "limited"));
}

// Ctrl-C finishes the step, writes last.pt and exits 130.
TEST_F(TrainPredictCli, InterruptExits130WithACheckpoint) {
  const fs::path log = dir_ / "interrupt.log";
  const std::string train = cvtk::testing::cvtk_binary().string() + " train --data " +
                            cvtk::testing::quoted(dir_ / "shapes") + " --epochs 5" + kTiny +
                            " --val-split none --out " + cvtk::testing::quoted(dir_ / "interrupted");
  // Wait for the first finished step (the handler is in place by then), then send SIGINT.
  cvtk::testing::write_text(
      dir_ / "interrupt.sh",
      train + " >" + cvtk::testing::quoted(log) + " 2>&1 &\np=$!\nn=0\nwhile ! grep -q 'step 1/' " +
          cvtk::testing::quoted(log) +
          " 2>/dev/null && kill -0 $p 2>/dev/null && [ $n -lt 1200 ]; do sleep 0.1; n=$((n+1)); done\n"
          "kill -INT $p\nwait $p\necho \"exit=$?\"\n");
  CliRun r = run_shell("sh " + cvtk::testing::quoted(dir_ / "interrupt.sh"));
  const std::string out = cvtk::testing::read_file(log);
  EXPECT_NE(r.output.find("exit=130"), std::string::npos) << r.output << out;
  EXPECT_NE(out.find("interrupted at epoch"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir_ / "interrupted" / "last.pt")) << out;
}

// A rejected pipeline, model or dataset leaves nothing behind: no run directory, no options.toml.
TEST_F(TrainPredictCli, RejectedOptionsCreateNothing) {
  for (const std::string& bad : {std::string(" --pipeline 'hflip(p=2)'"), std::string(" --model thundernet-nonet"),
                                 std::string(" --score-threshold 3"), std::string(" --time 1 --epochs 3"),
                                 std::string(" --ema 1.5"), std::string(" --lr 0"), std::string(" --time -1")}) {
    CliRun r = cvtk::testing::run_cvtk_stderr("train --data " + cvtk::testing::quoted(dir_ / "shapes") + kTiny + bad +
                                              " --out " + cvtk::testing::quoted(dir_ / "rejected"));
    EXPECT_TRUE(cvtk::testing::FailsWithOneLine(r)) << bad;
    EXPECT_FALSE(fs::exists(dir_ / "rejected")) << bad;
  }
  CliRun r = cvtk::testing::run_cvtk_stderr("train --data " + cvtk::testing::quoted(dir_ / "no_such_data") + kTiny +
                                            " --out " + cvtk::testing::quoted(dir_ / "rejected"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(r));
  EXPECT_FALSE(fs::exists(dir_ / "rejected"));
  // A resumed run keeps the epochs its own --time planned.
  r = cvtk::testing::run_cvtk_stderr("train --resume " + cvtk::testing::quoted(dir_ / "run") + " --time 1");
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(r));
  EXPECT_NE(r.output.find("--time"), std::string::npos) << r.output;
}

// predict on nothing readable fails (exit 2, one line, nothing written), a video that is none too;
// two x.jpg in different directories give two drawn images.
TEST_F(TrainPredictCli, PredictFailsWithoutReadableInputAndKeepsNamesApart) {
  ASSERT_TRUE(fs::exists(dir_ / "run" / "last.pt")) << train_.output;
  const std::string weights = " --weights " + cvtk::testing::quoted(dir_ / "run" / "last.pt") + " --threads 2";
  cvtk::testing::write_text(dir_ / "bad" / "empty.jpg", "");
  cvtk::testing::write_text(dir_ / "bad" / "movie.mp4", "not really a video");
  CliRun empty = cvtk::testing::run_cvtk_stderr("predict" + weights + " --source " +
                                                cvtk::testing::quoted(dir_ / "bad" / "empty.jpg") + " --out " +
                                                cvtk::testing::quoted(dir_ / "bad_out"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(empty));
  EXPECT_NE(empty.err.find("no readable image"), std::string::npos) << empty.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad_out"));
  CliRun video = cvtk::testing::run_cvtk_stderr("predict" + weights + " --source " +
                                                cvtk::testing::quoted(dir_ / "bad" / "movie.mp4") + " --out " +
                                                cvtk::testing::quoted(dir_ / "bad_out"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(video));
  EXPECT_NE(video.err.find("movie.mp4: cannot open the video"), std::string::npos) << video.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad_out"));

  const fs::path img = dir_ / "shapes" / "JPEGImages" / "val_00000.jpg";
  for (const char* sub : {"a", "b"}) {
    fs::create_directories(dir_ / "two" / sub);
    fs::copy_file(img, dir_ / "two" / sub / "x.jpg", fs::copy_options::overwrite_existing);
  }
  CliRun two = run_cvtk("predict" + weights + " --source " + cvtk::testing::quoted(dir_ / "two") + " --out " +
                        cvtk::testing::quoted(dir_ / "two_out"));
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_NE(two.output.find("2 drawn images"), std::string::npos) << two.output;
  EXPECT_TRUE(fs::exists(dir_ / "two_out" / "images" / "a" / "x.jpg"));
  EXPECT_TRUE(fs::exists(dir_ / "two_out" / "images" / "b" / "x.jpg"));
}

// The exit codes of README "Exit codes", for every subcommand: 0 success, 1 problems found (data
// check), 2 usage or input error, and a failure is one line on stderr that leaves no output behind.
// (130, interrupted, is tested with training in train_predict_cli_test.cpp.)
#include <gtest/gtest.h>

#include "tests/apps/cli_run.h"

namespace fs = std::filesystem;
using cvtk::testing::FailsWithOneLine;
using cvtk::testing::run_cvtk;
using cvtk::testing::run_cvtk_stderr;
using cvtk::testing::write_text;

namespace {

// A tiny COCO ground truth (two images, one class) and a results file that finds both objects.
void write_tiny_coco(const fs::path& dir) {
  write_text(dir / "gt.json", R"({"images": [{"id": 7, "file_name": "a.jpg", "width": 40, "height": 30},
    {"id": 9, "file_name": "b.jpg", "width": 40, "height": 30}],
    "categories": [{"id": 3, "name": "cell"}],
    "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [2, 2, 10, 10], "area": 100, "iscrowd": 0},
                    {"id": 2, "image_id": 9, "category_id": 3, "bbox": [5, 5, 20, 10], "area": 200, "iscrowd": 0}]})");
  write_text(dir / "dets.json", R"([{"image_id": 7, "category_id": 3, "bbox": [2, 2, 10, 10], "score": 0.9},
    {"image_id": 9, "category_id": 3, "bbox": [5, 5, 20, 10], "score": 0.8}])");
}

}  // namespace

TEST(ExitCodes, TopLevel) {
  EXPECT_EQ(run_cvtk("--version").code, 0);
  EXPECT_EQ(run_cvtk("--help").code, 0);
  auto none = run_cvtk_stderr("");
  EXPECT_TRUE(FailsWithOneLine(none));
  EXPECT_NE(none.err.find("needs a command"), std::string::npos) << none.err;
  auto bogus = run_cvtk_stderr("bogus");
  EXPECT_TRUE(FailsWithOneLine(bogus));
  EXPECT_NE(bogus.err.find("unknown command 'cvtk bogus'"), std::string::npos) << bogus.err;
  EXPECT_NE(bogus.err.find("train"), std::string::npos) << bogus.err;
  auto data_bogus = run_cvtk_stderr("data bogus");
  EXPECT_TRUE(FailsWithOneLine(data_bogus));
  EXPECT_NE(data_bogus.err.find("check, stats, convert"), std::string::npos) << data_bogus.err;
  EXPECT_TRUE(FailsWithOneLine(run_cvtk_stderr("--no-such-flag")));
}

TEST(ExitCodes, EverySubcommandHelpIsZeroAndUnknownFlagIsTwo) {
  for (const char* sub : {"data check", "data stats", "data convert", "synth", "augment preview", "augment list",
                          "models", "classify", "train", "eval", "predict"}) {
    EXPECT_EQ(run_cvtk(std::string(sub) + " --help").code, 0) << sub;
    auto bad = run_cvtk_stderr(std::string(sub) + " --no-such-flag");
    EXPECT_TRUE(FailsWithOneLine(bad)) << sub;
    EXPECT_NE(bad.err.find("--no-such-flag"), std::string::npos) << sub << ": " << bad.err;
    EXPECT_NE(bad.err.find("--help"), std::string::npos) << sub << ": " << bad.err;
  }
}

TEST(ExitCodes, NumbersThatAreNotNumbersAreNamedPlainly) {
  auto abc = run_cvtk_stderr("train --data x --epochs abc");
  EXPECT_TRUE(FailsWithOneLine(abc));
  EXPECT_NE(abc.err.find("--epochs"), std::string::npos) << abc.err;
  EXPECT_NE(abc.err.find("'abc' is not a number"), std::string::npos) << abc.err;
  EXPECT_LT(abc.err.size(), 200u) << abc.err;  // CLI11 alone prints the 309-digit bound of "positive"
  auto negative = run_cvtk_stderr("train --data x --epochs -3");
  EXPECT_TRUE(FailsWithOneLine(negative));
  EXPECT_NE(negative.err.find("greater than 0"), std::string::npos) << negative.err;
  EXPECT_TRUE(FailsWithOneLine(run_cvtk_stderr("synth out --train abc")));
  EXPECT_TRUE(FailsWithOneLine(run_cvtk_stderr("train --data x --num-fc 3")));
}

TEST(ExitCodes, DataCommands) {
  const fs::path dir = cvtk::testing::scratch_dir("exit_data");
  const std::string shapes = (dir / "shapes").string();
  ASSERT_EQ(
      run_cvtk("synth " + shapes + " --train 4 --val 2 --seed 1 --width 64 --height 64 --min-size 8 --max-size 32")
          .code,
      0);
  EXPECT_EQ(run_cvtk("data check " + shapes).code, 0);
  EXPECT_EQ(run_cvtk("data stats " + shapes).code, 0);
  EXPECT_EQ(run_cvtk("data convert " + shapes + " " + (dir / "coco").string() + " --to coco").code, 0);
  // Problems found: 1, and the problem listed.
  write_text(dir / "voc" / "Annotations" / "a.xml",
             "<annotation><size><width>10</width><height>10</height></size><object><name>cat</name><bndbox>"
             "<xmin>5</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax></bndbox></object></annotation>");
  EXPECT_EQ(run_cvtk("data check " + (dir / "voc").string()).code, 1);
  // Input errors: 2, one line.
  const std::string nowhere = (dir / "nowhere").string();
  for (const std::string& cmd :
       {"data check " + nowhere, "data stats " + nowhere,
        "data convert " + nowhere + " " + (dir / "out").string() + " --to voc",
        "data convert " + shapes + " " + (dir / "out").string() + " --to nonsense",
        "data convert " + (dir / "voc").string() + " " + (dir / "out").string() + " --to yolo"}) {
    auto r = run_cvtk_stderr(cmd);
    EXPECT_TRUE(FailsWithOneLine(r)) << cmd;
    EXPECT_FALSE(fs::exists(dir / "out")) << cmd;
  }
  // An existing destination is refused and left as it was.
  auto exists = run_cvtk_stderr("data convert " + shapes + " " + (dir / "coco").string() + " --to coco");
  EXPECT_TRUE(FailsWithOneLine(exists));
  // synth into an existing file.
  write_text(dir / "a_file", "x");
  EXPECT_TRUE(FailsWithOneLine(run_cvtk_stderr("synth " + (dir / "a_file").string() + " --train 1 --val 1")));
}

TEST(ExitCodes, AugmentAndModels) {
  const fs::path dir = cvtk::testing::scratch_dir("exit_augment");
  const std::string shapes = (dir / "shapes").string();
  ASSERT_EQ(
      run_cvtk("synth " + shapes + " --train 2 --val 1 --seed 1 --width 64 --height 64 --min-size 8 --max-size 32")
          .code,
      0);
  EXPECT_EQ(run_cvtk("augment list").code, 0);
  EXPECT_EQ(run_cvtk("models").code, 0);
  EXPECT_EQ(run_cvtk("augment preview --data " + shapes + " --split train --n 2 --out " + (dir / "ok").string()).code,
            0);
  for (const char* spec : {"hflip(p=2)", "nosuch()", "resize(320,", "erase(mode=sideways)", "hflip(p=0.5) )"}) {
    auto r = run_cvtk_stderr("augment preview --data " + shapes + " --pipeline '" + spec + "' --out " +
                             (dir / "bad").string());
    EXPECT_TRUE(FailsWithOneLine(r)) << spec;
    EXPECT_FALSE(fs::exists(dir / "bad")) << spec;
  }
  auto missing =
      run_cvtk_stderr("augment preview --data " + (dir / "nowhere").string() + " --out " + (dir / "bad").string());
  EXPECT_TRUE(FailsWithOneLine(missing));
  EXPECT_FALSE(fs::exists(dir / "bad"));
}

TEST(ExitCodes, ClassifyNeedsRealWeights) {
  const fs::path dir = cvtk::testing::scratch_dir("exit_classify");
  write_text(dir / "junk.pt", "not weights");
  write_text(dir / "x.jpg", "not an image");
  // Without weights a classifier's "predictions" are noise: refused, not printed.
  auto none = run_cvtk_stderr("classify --arch shufflenet_v2_x0_5 --image " + (dir / "x.jpg").string());
  EXPECT_TRUE(FailsWithOneLine(none));
  EXPECT_NE(none.err.find("--weights"), std::string::npos) << none.err;
  auto junk = run_cvtk_stderr("classify --arch shufflenet_v2_x0_5 --weights " + (dir / "junk.pt").string() +
                              " --image " + (dir / "x.jpg").string());
  EXPECT_TRUE(FailsWithOneLine(junk));
  EXPECT_NE(junk.err.find("junk.pt"), std::string::npos) << junk.err;
  EXPECT_TRUE(FailsWithOneLine(run_cvtk_stderr("classify --arch no_such_net --weights " + (dir / "junk.pt").string() +
                                               " --image " + (dir / "x.jpg").string())));
}

TEST(ExitCodes, EvalAndPredictInputErrors) {
  const fs::path dir = cvtk::testing::scratch_dir("exit_eval");
  write_tiny_coco(dir);
  const std::string gt = (dir / "gt.json").string();
  EXPECT_EQ(run_cvtk("eval --gt " + gt + " --dets " + (dir / "dets.json").string() + " --protocol all").code, 0);
  for (const std::string& cmd :
       {"eval --dets " + (dir / "dets.json").string(), "eval --gt " + gt, "eval --gt " + gt + " --dets nowhere.json",
        "eval --gt " + gt + " --dets " + (dir / "dets.json").string() + " --protocol voc2012",
        "eval --gt " + gt + " --weights " + (dir / "missing.pt").string(),
        "eval --gt " + gt + " --dets " + (dir / "dets.json").string() + " --weights " + (dir / "missing.pt").string(),
        "predict --weights " + (dir / "missing.pt").string() + " --source " + dir.string() + " --out " +
            (dir / "p").string(),
        "predict --source " + dir.string()}) {
    auto r = run_cvtk_stderr(cmd);
    EXPECT_TRUE(FailsWithOneLine(r)) << cmd;
    EXPECT_FALSE(fs::exists(dir / "p")) << cmd;
  }
  // A checkpoint that is not one: the file is named, LibTorch's reader trace is not shown.
  write_text(dir / "junk.pt", std::string(3000, 'x'));
  auto junk = run_cvtk_stderr("eval --gt " + gt + " --weights " + (dir / "junk.pt").string());
  EXPECT_TRUE(FailsWithOneLine(junk));
  EXPECT_NE(junk.err.find("junk.pt"), std::string::npos) << junk.err;
}

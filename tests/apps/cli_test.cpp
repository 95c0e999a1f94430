// The cvtk binary as a user runs it: exit codes, one-line errors, nothing left behind on failure.
#include <gtest/gtest.h>

#include "tests/apps/cli_run.h"

namespace fs = std::filesystem;

using cvtk::testing::CliRun;
using cvtk::testing::run_cvtk;
using cvtk::testing::write_text;

TEST(Cli, VersionHelpAndUnknownFlags) {
  CliRun v = run_cvtk("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.output.find("cvtk "), std::string::npos);
  for (const char* sub : {"data check", "data stats", "data convert", "synth", "eval"}) {
    CliRun h = run_cvtk(std::string(sub) + " --help");
    EXPECT_EQ(h.code, 0) << sub;
    EXPECT_NE(h.output.find("Usage"), std::string::npos) << sub;
  }
  CliRun bad = run_cvtk("data check somewhere --no-such-flag");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.output.find("--no-such-flag"), std::string::npos) << bad.output;
  EXPECT_NE(run_cvtk("").code, 0);
}

TEST(Cli, SynthCheckStatsConvert) {
  const fs::path dir = cvtk::testing::scratch_dir("cli_synth");
  CliRun s = run_cvtk("synth " + (dir / "shapes").string() + " --train 8 --val 4 --seed 3");
  ASSERT_EQ(s.code, 0) << s.output;
  CliRun c = run_cvtk("data check " + (dir / "shapes").string() + " --decode");
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_NE(c.output.find("no problems found"), std::string::npos) << c.output;
  CliRun st = run_cvtk("data stats " + (dir / "shapes").string() + " --plot " + (dir / "stats.png").string());
  EXPECT_EQ(st.code, 0) << st.output;
  EXPECT_NE(st.output.find("split train: 8 images"), std::string::npos) << st.output;
  EXPECT_NE(st.output.find("split val: 4 images"), std::string::npos) << st.output;
  EXPECT_GT(fs::file_size(dir / "stats.png"), 1000u);
  CliRun cv =
      run_cvtk("data convert " + (dir / "shapes").string() + " " + (dir / "coco").string() + " --to coco --split val");
  EXPECT_EQ(cv.code, 0) << cv.output;
  EXPECT_TRUE(fs::exists(dir / "coco" / "annotations" / "instances_val.json"));
  EXPECT_EQ(run_cvtk("data check " + (dir / "coco").string()).code, 0);
  // An existing destination is refused, and left as it was.
  CliRun again =
      run_cvtk("data convert " + (dir / "shapes").string() + " " + (dir / "coco").string() + " --to coco --split val");
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
}

TEST(Cli, BadDatasetsGiveOneClearLineAndNoOutput) {
  const fs::path dir = cvtk::testing::scratch_dir("cli_bad");
  write_text(dir / "voc" / "Annotations" / "a.xml",
             "<annotation><size><width>10</width><height>10</height></size><object><name>cat</name><bndbox>"
             "<xmin>5</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax></bndbox></object></annotation>");
  CliRun conv = run_cvtk("data convert " + (dir / "voc").string() + " " + (dir / "out").string() + " --to yolo");
  EXPECT_EQ(conv.code, 2);
  EXPECT_NE(conv.output.find("a.xml: object 1: field 'bndbox/xmax'"), std::string::npos) << conv.output;
  EXPECT_FALSE(fs::exists(dir / "out"));
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos);
  CliRun check = run_cvtk("data check " + (dir / "voc").string());
  EXPECT_EQ(check.code, 1);
  EXPECT_NE(check.output.find("box_degenerate"), std::string::npos) << check.output;
  CliRun missing = run_cvtk("data stats " + (dir / "nowhere").string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("nowhere: not found"), std::string::npos) << missing.output;
}

TEST(Cli, EvalWritesEveryReportAndNothingOnBadInput) {
  const fs::path dir = cvtk::testing::scratch_dir("cli_eval");
  const fs::path golden = cvtk::testing::source_dir() / "tests" / "golden" / "coco" / "ties";
  CliRun ok = run_cvtk("eval --gt " + (golden / "gt.json").string() + " --dets " + (golden / "dets.json").string() +
                       " --protocol all --json " + (dir / "r.json").string() + " --csv " + (dir / "r.csv").string() +
                       " --plots " + (dir / "plots").string() + " --html " + (dir / "r.html").string());
  ASSERT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("protocol  coco"), std::string::npos);
  EXPECT_NE(ok.output.find("protocol  voc07"), std::string::npos);
  EXPECT_NE(ok.output.find("AR@100 large"), std::string::npos);
  for (const char* f : {"r.json", "r.csv", "r.html", "plots/coco_all.png", "plots/voc_all.png"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  // A detection with a NaN score: one line naming file, entry and field; no output files.
  write_text(dir / "bad.json", R"([{"image_id": 1000, "category_id": 4, "bbox": [1, 1, 5, 5], "score": 0.5},
    {"image_id": 1000, "category_id": 4, "bbox": [1, 1, -5, 5], "score": 0.5}])");
  CliRun bad = run_cvtk("eval --gt " + (golden / "gt.json").string() + " --dets " + (dir / "bad.json").string() +
                        " --json " + (dir / "bad_out.json").string());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("bad.json: [1]: field 'bbox'"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "bad_out.json"));
  CliRun missing = run_cvtk("eval --gt " + (golden / "gt.json").string());
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.output.find("--dets"), std::string::npos) << missing.output;
  CliRun empty = run_cvtk("eval --gt " + (golden / "gt.json").string() + " --dets " + (dir / "none.json").string());
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.output.find("none.json: file not found"), std::string::npos) << empty.output;
}

TEST(Cli, TrainEvalPredictAsAUserRunsThem) {
  const fs::path dir = cvtk::testing::scratch_dir("cli_train");
  const std::string data = (dir / "shapes").string();
  ASSERT_EQ(run_cvtk("synth " + data + " --train 8 --val 4 --seed 5").code, 0);
  for (const char* sub : {"train", "predict", "augment preview"}) {
    CliRun h = run_cvtk(std::string(sub) + " --help");
    EXPECT_EQ(h.code, 0) << sub;
  }
  const std::string common = " --epochs 1 --batch 4 --size 128 --threads 1 --loader-threads 1 --warmup 1";
  CliRun t = run_cvtk("train --data " + data + common + " --out " + (dir / "run").string());
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_NE(t.output.find("val mAP@0.5"), std::string::npos) << t.output;
  for (const char* f : {"options.toml", "last.pt", "best.pt", "results.csv", "results.jsonl", "report.html"})
    EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  // The training report is made again from the run's files on request, the same page.
  const std::string page = cvtk::testing::read_file(dir / "run" / "report.html");
  EXPECT_NE(page.find("Training loss"), std::string::npos);
  // The first training images as the loader augments them, shown in the report.
  EXPECT_TRUE(fs::exists(dir / "run" / "augmented" / "mosaic.jpg"));
  EXPECT_NE(page.find("augmented/mosaic.jpg"), std::string::npos);
  CliRun r = run_cvtk("report " + (dir / "run").string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(cvtk::testing::read_file(dir / "run" / "report.html"), page);
  EXPECT_EQ(run_cvtk("report " + (dir / "shapes").string()).code, 2);
  // The saved options are a config file the command reads back.
  CliRun c = run_cvtk("train --config " + (dir / "run" / "options.toml").string() + " --out " +
                      (dir / "run2").string() + " --val-split none");
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(fs::exists(dir / "run2" / "last.pt"));

  CliRun e = run_cvtk("eval --weights " + (dir / "run" / "best.pt").string() + " --data " + data +
                      " --split val --protocol all --save-dets " + (dir / "dets.json").string());
  EXPECT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("mAP"), std::string::npos) << e.output;
  EXPECT_TRUE(fs::exists(dir / "dets.json"));
  // The saved detections evaluate to the same numbers through the file path.
  CliRun e2 = run_cvtk("eval --gt " + data + " --split val --protocol voc --dets " + (dir / "dets.json").string());
  EXPECT_EQ(e2.code, 0) << e2.output;

  CliRun p = run_cvtk("predict --weights " + (dir / "run" / "best.pt").string() + " --source " + data +
                      "/JPEGImages --out " + (dir / "pred").string() + " --score 0.0 --max-drawn 2");
  EXPECT_EQ(p.code, 0) << p.output;
  EXPECT_TRUE(fs::exists(dir / "pred" / "predictions.json"));
  EXPECT_TRUE(fs::exists(dir / "pred" / "images.csv"));
}

TEST(Cli, TrainAndPredictBadInputIsOneClearLine) {
  const fs::path dir = cvtk::testing::scratch_dir("cli_train_bad");
  CliRun t = run_cvtk("train --data " + (dir / "nowhere").string() + " --epochs 1");
  EXPECT_EQ(t.code, 2) << t.output;
  EXPECT_NE(t.output.find("nowhere"), std::string::npos) << t.output;
  CliRun m = run_cvtk("train --data " + (dir / "nowhere").string() + " --model yolo");
  EXPECT_NE(m.code, 0);
  CliRun p = run_cvtk("predict --weights " + (dir / "missing.pt").string() + " --source " + dir.string());
  EXPECT_EQ(p.code, 2) << p.output;
  EXPECT_NE(p.output.find("missing.pt"), std::string::npos) << p.output;
  write_text(dir / "junk.pt", "not a checkpoint");
  CliRun j = run_cvtk("predict --weights " + (dir / "junk.pt").string() + " --source " + dir.string());
  EXPECT_EQ(j.code, 2) << j.output;
  EXPECT_NE(j.output.find("junk.pt"), std::string::npos) << j.output;
  CliRun both = run_cvtk("eval --gt " + dir.string() + " --dets x.json --weights y.pt");
  EXPECT_NE(both.code, 0);
  CliRun r = run_cvtk("train --resume " + (dir / "norun").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("norun"), std::string::npos) << r.output;
}

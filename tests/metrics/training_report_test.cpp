// The training report (metrics/training_report.h) on run directories written by hand.
#include "metrics/training_report.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../common.h"

namespace cvtk::metrics {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::scratch_dir;
using testing::write_text;

std::string epoch_row(int epoch, double loss, double lr, double map50, double coco_ap) {
  return "{\"epoch\":" + std::to_string(epoch) + ",\"steps\":" + std::to_string(epoch * 10) +
         ",\"lr\":" + std::to_string(lr) + ",\"loss\":" + std::to_string(loss) +
         ",\"rpn_box\":0.05,\"val_map50\":" + std::to_string(map50) + ",\"val_coco_ap\":" + std::to_string(coco_ap) +
         ",\"seconds\":30}\n";
}

fs::path three_epoch_run(const std::string& name) {
  const fs::path dir = scratch_dir(name);
  write_text(dir / "results.jsonl", epoch_row(1, 1.5, 0.01, -1, -1) + epoch_row(2, 1.0, 0.02, 0.7, 0.41) +
                                        epoch_row(3, 0.9, 0.005, 0.75, 0.39));
  write_text(dir / "options.toml", "data = \"<script>alert(1)</script> Zellkern-\xC3\xA4\"\n");
  return dir;
}

TEST(TrainingReport, ReadsEveryEpochAndField) {
  const TrainingRun run = read_training_run(three_epoch_run("training_report_read"));
  EXPECT_EQ(run.rows, 3u);
  ASSERT_EQ(run.field_order.front(), "epoch");
  EXPECT_DOUBLE_EQ(run.fields.at("loss")[1], 1.0);
  EXPECT_DOUBLE_EQ(run.fields.at("val_map50")[0], -1);
  EXPECT_TRUE(run.skipped_last_line.empty());
}

TEST(TrainingReport, BestEpochIsTheOneBestPtHolds) {
  // Epoch 3 has the higher mAP@0.5, the trainer's rule for best.pt, and the lower COCO AP; epoch 1 did
  // not validate (-1).
  EXPECT_EQ(best_epoch_row(read_training_run(three_epoch_run("training_report_best"))), 2);
  const fs::path dir = scratch_dir("training_report_unvalidated");
  write_text(dir / "results.jsonl", epoch_row(1, 1.5, 0.01, -1, -1));
  EXPECT_EQ(best_epoch_row(read_training_run(dir)), -1);
}

TEST(TrainingReport, PageIsSelfContainedAndEscapesTheRunsStrings) {
  const fs::path dir = three_epoch_run("training_report_page");
  const fs::path page = write_training_report(dir);
  EXPECT_EQ(page, dir / "report.html");
  const std::string html = read_file(page);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; Zellkern-\xC3\xA4"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  for (const char* title : {"Training loss", "Learning rate", "Validation"})
    EXPECT_NE(html.find(title), std::string::npos);
  // The learning rate peaks at 0.02: drawn scaled so its two-decimal tick labels still differ.
  EXPECT_NE(html.find("lr (x 1e-2)"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "report.html.tmp"));
  for (const auto& entry : fs::directory_iterator(dir))  // the atomic write's temporary file is gone
    EXPECT_NE(entry.path().filename().string().rfind("report.html.tmp", 0), 0u) << entry.path();
}

TEST(TrainingReport, AnIncompleteLastLineIsSkippedAndNamed) {
  const fs::path dir = scratch_dir("training_report_truncated");
  write_text(dir / "results.jsonl", epoch_row(1, 1.5, 0.01, 0.5, 0.2) + "{\"epoch\":2,\"lo");
  const TrainingRun run = read_training_run(dir);
  EXPECT_EQ(run.rows, 1u);
  EXPECT_NE(run.skipped_last_line.find("line 2"), std::string::npos);
  EXPECT_NE(training_report_html(run).find("line 2 is incomplete"), std::string::npos);
}

TEST(TrainingReport, AMalformedLineIsAnErrorNamingFileAndLine) {
  const fs::path dir = scratch_dir("training_report_malformed");
  write_text(dir / "results.jsonl", epoch_row(1, 1.5, 0.01, 0.5, 0.2) + "not json\n" + epoch_row(3, 1, 0.01, 0.5, 0.2));
  try {
    read_training_run(dir);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("results.jsonl:2"), std::string::npos) << e.what();
  }
}

TEST(TrainingReport, AMissingResultsFileIsAnErrorNamingIt) {
  const fs::path dir = scratch_dir("training_report_missing");
  try {
    read_training_run(dir);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("results.jsonl: not found"), std::string::npos) << e.what();
  }
}

TEST(TrainingReport, ImagesInTheRunAreEmbedded) {
  const fs::path dir = three_epoch_run("training_report_images");
  write_text(dir / "train_batch.png", std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string html = training_report_html(read_training_run(dir));
  EXPECT_NE(html.find("data:image/png;base64,iVBORw0KGgo="), std::string::npos);
}

size_t rings_in_chart(const std::string& html, const std::string& title) {
  const size_t start = html.find("<title>" + title + "</title>"), end = html.find("</svg>", start);
  if (start == std::string::npos) return 0;
  size_t n = 0;
  for (size_t p = html.find("<circle", start); p < end; p = html.find("<circle", p + 1)) ++n;
  return n;
}

// A point with no defined neighbour draws no line: validation every other epoch, and a one-epoch run,
// show their points as rings.
TEST(TrainingReport, LonePointsAreDrawnAsRings) {
  const fs::path dir = scratch_dir("training_report_rings");
  write_text(dir / "results.jsonl", epoch_row(1, 1.5, 0.01, -1, -1) + epoch_row(2, 1.0, 0.02, 0.7, 0.41) +
                                        epoch_row(3, 0.9, 0.005, -1, -1) + epoch_row(4, 0.8, 0.005, 0.75, 0.45));
  const std::string html = training_report_html(read_training_run(dir));
  EXPECT_EQ(rings_in_chart(html, "Validation"), 5u) << "two epochs of val_map50 and val_coco_ap, and the best mark";
  EXPECT_EQ(rings_in_chart(html, "Training loss"), 0u);
  write_text(dir / "results.jsonl", epoch_row(1, 1.5, 0.01, 0.5, 0.3));
  const std::string one = training_report_html(read_training_run(dir));
  EXPECT_EQ(rings_in_chart(one, "Training loss"), 2u);  // loss and rpn_box
}

}  // namespace
}  // namespace cvtk::metrics

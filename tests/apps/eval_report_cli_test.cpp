// `cvtk eval --html` as a user runs it: on a synthetic dataset with images (the gallery embeds crops)
// and on a golden case without images (the gallery names each unreadable image instead of failing).
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "tests/apps/cli_run.h"
#include "tests/common.h"
#include "vision/data/dataset_io.h"

using namespace cvtk;
using cvtk::testing::quoted;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Every http(s) URL and every src/href that is not a data: URI: what a browser would fetch.
bool fetches_anything(const std::string& html) {
  return std::regex_search(html, std::regex("https?:", std::regex::icase)) ||
         std::regex_search(html, std::regex("(src|href)=\"(?!data:)"));
}

}  // namespace

TEST(EvalReportCli, SyntheticDatasetWithImages) {
  const fs::path dir = cvtk::testing::scratch_dir("eval_report_cli");
  const auto synth = cvtk::testing::run_cvtk("synth " + quoted(dir / "shapes") + " --train 1 --val 8 --seed 5");
  ASSERT_EQ(synth.code, 0) << synth.output;
  data::ReadOptions ro;
  ro.split = "val";
  const data::Dataset gt = data::read_dataset(dir / "shapes", ro);
  ASSERT_EQ(gt.images.size(), 8u);
  // Detections from the ground truth: every other object found (shifted a little, scores falling), one
  // in three of the rest with a badly shifted box, and each image's last object missed.
  std::string json = "[";
  int n = 0;
  for (const auto& im : gt.images)
    for (size_t k = 0; k + 1 < im.objects.size(); ++k) {
      const data::Box& b = im.objects[k].box;
      const double shift = k % 3 == 2 ? 0.6 * b.width() : 1.0;
      char line[256];
      std::snprintf(
          line, sizeof line,
          "%s{\"image_id\": \"%s\", \"category_id\": %d, \"bbox\": [%.2f, %.2f, %.2f, %.2f], \"score\": %.3f}",
          n ? ",\n" : "", im.name.c_str(), im.objects[k].label + 1, b.x1 + shift, b.y1, b.width(), b.height(),
          0.95 - 0.01 * n);
      ++n;
      json += line;
    }
  json += "]\n";
  cvtk::testing::write_text(dir / "dets.json", json);
  const fs::path html_file = dir / "out" / "report.html";
  fs::create_directories(html_file.parent_path());
  const auto r = cvtk::testing::run_cvtk("eval --gt " + quoted(dir / "shapes") + " --split val --dets " +
                                         quoted(dir / "dets.json") + " --protocol all --html " + quoted(html_file));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + html_file.string()), std::string::npos) << r.output;
  const std::string html = cvtk::testing::read_file(html_file);
  EXPECT_FALSE(fetches_anything(html));
  EXPECT_GT(count(html, "data:image/jpeg;base64,"), 5u);
  EXPECT_EQ(count(html, "image not readable"), 0u);
  for (const char* part : {"COCO AP@[.50:.95]", "VOC mAP (all-point)", "VOC07 mAP (11-point)", "id=\"class-table\"",
                           "<i>missed</i>", "id=\"gallery\"", "dets.json"})
    EXPECT_NE(html.find(part), std::string::npos) << part;
  for (const auto& c : gt.classes) EXPECT_NE(html.find(">" + c + "</td>"), std::string::npos) << c;
  EXPECT_LT(html.size(), 1024u * 1024);
}

TEST(EvalReportCli, MissingImagesAreNamedNotFatal) {
  const fs::path golden = cvtk::testing::source_dir() / "tests" / "golden" / "voc" / "case202";
  const fs::path html_file = cvtk::testing::scratch_dir("eval_report_cli_golden") / "report.html";
  const auto r = cvtk::testing::run_cvtk("eval --gt " + quoted(golden) + " --split test --dets " +
                                         quoted(golden / "dets") + " --protocol voc --html " + quoted(html_file));
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string html = cvtk::testing::read_file(html_file);
  EXPECT_GT(count(html, "image not readable"), 0u);
  EXPECT_EQ(count(html, "data:image/jpeg"), 0u);
  EXPECT_NE(html.find("AP by size comes from the COCO protocol"), std::string::npos);
  EXPECT_FALSE(fetches_anything(html));
}

TEST(EvalReportCli, DataStatsReport) {
  const fs::path dir = cvtk::testing::scratch_dir("data_stats_report_cli");
  ASSERT_EQ(cvtk::testing::run_cvtk("synth " + quoted(dir / "shapes") + " --train 3 --val 2 --seed 1").code, 0);
  const fs::path page = dir / "stats.html";
  const auto r = cvtk::testing::run_cvtk("data stats " + quoted(dir / "shapes") + " --report " + quoted(page));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + page.string()), std::string::npos) << r.output;
  const std::string html = cvtk::testing::read_file(page);
  EXPECT_NE(html.find("<td class=\"name\">train</td><td>3</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"name\">val</td><td>2</td>"), std::string::npos);
  EXPECT_NE(html.find(">centre x / image width</text>"), std::string::npos);
  EXPECT_FALSE(fetches_anything(html));
  // Under a regular file: one error line naming the file, and nothing written.
  cvtk::testing::write_text(dir / "plain", "x");
  const auto bad = cvtk::testing::run_cvtk_stderr("data stats " + quoted(dir / "shapes") + " --report " +
                                                  quoted(dir / "plain" / "stats.html"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(bad));
  EXPECT_NE(bad.err.find("stats.html"), std::string::npos) << bad.err;
  EXPECT_EQ(cvtk::testing::read_file(dir / "plain"), "x");
}

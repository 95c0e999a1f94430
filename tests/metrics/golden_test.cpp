// cvtk against the reference tools' own numbers: pycocotools COCOeval for the COCO cases, the VOC
// devkit's voc_eval port for the VOC cases, every number to 1e-9 absolute. The copies in tests/golden
// run always (a clean clone has them); the full set in ../shared/golden runs too when it is present.
// The ground truth is read the way `cvtk eval` reads it (read_dataset), so the image ids are the ones
// the command uses.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "metrics/evaluate.h"
#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"

namespace fs = std::filesystem;
using namespace cvtk;

namespace {

constexpr double kTolerance = 1e-9;

nlohmann::json load_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::vector<fs::path> cases(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path in_tree() { return cvtk::testing::source_dir() / "tests" / "golden"; }

void check_coco_case(const fs::path& dir) {
  SCOPED_TRACE(dir.string());
  const data::Dataset gt = data::read_dataset(dir / "gt.json");
  const data::DetectionSet dets = data::read_coco_results(dir / "dets.json", gt);
  const nlohmann::json expected = load_json(dir / "expected.json");
  for (int threads : {1, 2}) {
    metrics::Protocol protocol = metrics::coco_protocol();
    protocol.threads = threads;
    const metrics::Report report = metrics::evaluate(gt, dets.detections, protocol);
    ASSERT_EQ(report.summary.size(), 12u);
    for (size_t i = 0; i < 12; ++i)
      EXPECT_NEAR(report.summary[i].value, expected["stats"][i].get<double>(), kTolerance) << report.summary[i].name;
    for (const auto& c : report.classes) {
      const std::string id = std::to_string(gt.category_id(c.label));
      EXPECT_NEAR(c.ap, expected["per_category_ap"][id].get<double>(), kTolerance) << "category " << id;
      EXPECT_NEAR(c.ap50, expected["per_category_ap50"][id].get<double>(), kTolerance) << "category " << id;
      EXPECT_NEAR(c.ap75, expected["per_category_ap75"][id].get<double>(), kTolerance) << "category " << id;
    }
  }
}

void check_voc_case(const fs::path& dir) {
  SCOPED_TRACE(dir.string());
  data::ReadOptions options;
  options.split = "test";
  const data::Dataset gt = data::read_dataset(dir, options);
  const data::DetectionSet dets = data::read_voc_detections(dir / "dets", gt, "test");
  const nlohmann::json expected = load_json(dir / "expected.json");
  for (const char* protocol_name : {"voc07", "voc"}) {
    const metrics::Report report = metrics::evaluate(gt, dets.detections, metrics::protocol_by_name(protocol_name));
    const auto& e = expected[protocol_name];
    EXPECT_NEAR(report.headline(), e["mAP"].get<double>(), kTolerance) << protocol_name;
    ASSERT_EQ(report.classes.size(), e["per_class"].size()) << protocol_name;
    for (const auto& c : report.classes)
      EXPECT_NEAR(c.ap, e["per_class"][c.name].get<double>(), kTolerance) << protocol_name << " " << c.name;
  }
}

}  // namespace

TEST(GoldenCoco, InTreeCasesMatchPycocotools) {
  const auto dirs = cases(in_tree() / "coco");
  ASSERT_GE(dirs.size(), 2u) << "tests/golden/coco is missing its cases";
  for (const auto& dir : dirs) check_coco_case(dir);
}

TEST(GoldenVoc, InTreeCasesMatchTheDevkitPort) {
  const auto dirs = cases(in_tree() / "voc");
  ASSERT_GE(dirs.size(), 1u) << "tests/golden/voc is missing its cases";
  for (const auto& dir : dirs) check_voc_case(dir);
}

TEST(GoldenCoco, EveryStatAndPerCategoryApMatchesPycocotools) {
  CVTK_REQUIRE_SHARED(shared);
  const auto dirs = cases(shared / "golden" / "coco");
  ASSERT_FALSE(dirs.empty()) << "no cases in " << shared / "golden" / "coco";
  for (const auto& dir : dirs) check_coco_case(dir);
}

TEST(GoldenVoc, Voc07AndAllPointApMatchTheDevkitPort) {
  CVTK_REQUIRE_SHARED(shared);
  const auto dirs = cases(shared / "golden" / "voc");
  ASSERT_FALSE(dirs.empty()) << "no cases in " << shared / "golden" / "voc";
  for (const auto& dir : dirs) check_voc_case(dir);
}

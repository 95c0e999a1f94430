// cvtk against the reference tools' own numbers (../shared/golden): pycocotools COCOeval for the COCO
// cases, the voc_eval port for the VOC cases. Every number to 1e-9 absolute.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

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

std::vector<std::string> cases(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(GoldenCoco, EveryStatAndPerCategoryApMatchesPycocotools) {
  CVTK_REQUIRE_SHARED(shared);
  const fs::path root = shared / "golden" / "coco";
  const auto names = cases(root);
  ASSERT_FALSE(names.empty()) << "no cases in " << root;
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const data::Dataset gt = data::read_coco(root / name / "gt.json");
    const data::DetectionSet dets = data::read_coco_results(root / name / "dets.json", gt);
    const nlohmann::json expected = load_json(root / name / "expected.json");
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
}

TEST(GoldenVoc, Voc07AndAllPointApMatchTheDevkitPort) {
  CVTK_REQUIRE_SHARED(shared);
  const fs::path root = shared / "golden" / "voc";
  const auto names = cases(root);
  ASSERT_FALSE(names.empty()) << "no cases in " << root;
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    data::ReadOptions options;
    options.split = "test";
    const data::Dataset gt = data::read_voc(root / name, options);
    const data::DetectionSet dets = data::read_voc_detections(root / name / "dets", gt, "test");
    const nlohmann::json expected = load_json(root / name / "expected.json");
    for (const char* protocol_name : {"voc07", "voc"}) {
      const metrics::Report report = metrics::evaluate(gt, dets.detections, metrics::protocol_by_name(protocol_name));
      const auto& e = expected[protocol_name];
      EXPECT_NEAR(report.headline(), e["mAP"].get<double>(), kTolerance) << protocol_name;
      for (const auto& c : report.classes)
        EXPECT_NEAR(c.ap, e["per_class"][c.name].get<double>(), kTolerance) << protocol_name << " " << c.name;
    }
  }
}

// The COCO results reader's fast path (vision/data/coco_results_fast.h) against the general reader: on
// every file it takes it must give the general reader's detections bit for bit and the same counts; on
// every file the general reader rejects it must decline, so the error is the general reader's.
#include "vision/data/coco_results_fast.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "tests/common.h"
#include "vision/data/file_util.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

Dataset ground_truth() {
  Dataset gt;
  for (int k = 0; k < 5; ++k) {
    gt.classes.push_back("c" + std::to_string(k));
    gt.category_ids.push_back(3 * k + 1);
  }
  gt.category_ids.back() = 70000;  // beyond the small-id table
  for (int i = 0; i < 30; ++i) {
    ImageRecord r;
    r.id = i == 29 ? -5 : 100 + 7 * i;
    r.name = "im" + std::to_string(i);
    r.file = r.name + ".jpg";
    r.width = 640;
    r.height = 480;
    gt.images.push_back(r);
  }
  return gt;
}

void write(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_same(const DetectionSet& a, const DetectionSet& b) {
  ASSERT_EQ(a.detections.size(), b.detections.size());
  EXPECT_EQ(a.skipped_unknown_image, b.skipped_unknown_image);
  EXPECT_EQ(a.skipped_unknown_class, b.skipped_unknown_class);
  EXPECT_EQ(a.outside_image, b.outside_image);
  for (size_t i = 0; i < a.detections.size(); ++i) {
    const Detection &x = a.detections[i], &y = b.detections[i];
    ASSERT_EQ(x.image_id, y.image_id) << i;
    ASSERT_EQ(x.label, y.label) << i;
    ASSERT_TRUE(same_bits(x.score, y.score) && same_bits(x.box.x1, y.box.x1) && same_bits(x.box.y1, y.box.y1) &&
                same_bits(x.box.x2, y.box.x2) && same_bits(x.box.y2, y.box.y2))
        << "detection " << i;
  }
}

// A number the way writers print them: shortest, fixed digits, integers, exponents, negative zero.
std::string number(std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  const double v = u(rng);
  char buf[64];
  switch (rng() % 6) {
    case 0:
      return format_number(v);
    case 1:
      std::snprintf(buf, sizeof buf, "%.3f", v);
      return buf;
    case 2:
      return std::to_string(static_cast<long long>(v));
    case 3:
      std::snprintf(buf, sizeof buf, "%.17g", v);
      return buf;
    case 4:
      std::snprintf(buf, sizeof buf, "%.6E", v);
      return buf;
    default:
      return v < 1 ? "-0" : format_number(v);
  }
}

// A results file of n elements with varied layout; `extra` adds members the readers skip, with strings
// that hold ", {" so a guessed stretch start can fall inside one.
std::string results_file(std::mt19937_64& rng, const Dataset& gt, size_t n, bool extra) {
  std::string t = rng() % 4 == 0 ? "\xEF\xBB\xBF [" : "[";
  for (size_t i = 0; i < n; ++i) {
    const ImageRecord& r = gt.images[rng() % gt.images.size()];
    const int64_t cat = gt.category_ids[rng() % gt.category_ids.size()];
    const char* sep = (rng() % 3 == 0) ? ",\n  " : ",";
    t += i ? sep : "\n";
    std::string id = std::to_string(r.id);
    if (rng() % 10 == 0) id += ".0";
    t += "{\"image_id\":" + id + ", \"category_id\": " + std::to_string(cat) + ",\"bbox\" : [" + number(rng, -3, 600) +
         "," + number(rng, -3, 450) + ", " + number(rng, 0, 300) + " ,\t" + number(rng, 0, 300) + "]";
    if (extra) t += ", \"note\": \"x, {y}\", \"seg\": {\"a\": [1, 2.5e3, null, true, false, [], {}], \"b\": -0.0}";
    t += ", \"score\": " + number(rng, 0, 1) + "}";
  }
  return t + "\n]\n";
}

}  // namespace

TEST(CocoResultsFast, GivesTheGeneralReadersDetectionsBitForBit) {
  const fs::path dir = cvtk::testing::process_scratch_dir("coco_results_fast");
  const Dataset gt = ground_truth();
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const fs::path file = dir / "dets.json";
    write(file, results_file(rng, gt, 1 + rng() % 300, round % 3 == 0));
    const auto fast = detail::read_coco_results_fast(file, gt, {});
    ASSERT_TRUE(fast.has_value());
    expect_same(*fast, detail::read_coco_results_general(file, gt, {}));
  }
}

TEST(CocoResultsFast, SplitsALargeFileAcrossThreadsInFileOrder) {
  const fs::path dir = cvtk::testing::process_scratch_dir("coco_results_fast_large");
  const Dataset gt = ground_truth();
  std::mt19937_64 rng(12);
  for (bool extra : {false, true}) {  // with extra: guessed starts inside strings, read again in one stretch
    const fs::path file = dir / "dets.json";
    write(file, results_file(rng, gt, extra ? 60000 : 90000, extra));
    ASSERT_GT(fs::file_size(file), size_t(8) << 20);
    const auto fast = detail::read_coco_results_fast(file, gt, {});
    ASSERT_TRUE(fast.has_value());
    expect_same(*fast, detail::read_coco_results_general(file, gt, {}));
  }
}

TEST(CocoResultsFast, CountsWhatSkipUnknownSkips) {
  const fs::path dir = cvtk::testing::process_scratch_dir("coco_results_fast_skip");
  const Dataset gt = ground_truth();
  const fs::path file = dir / "dets.json";
  write(file,
        R"([{"image_id": 100, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
            {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
            {"image_id": 100, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5},
            {"image_id": -5, "category_id": 70000, "bbox": [630, 2, 30, 4], "score": 1}])");
  DetectionReadOptions skip;
  skip.skip_unknown = true;
  const auto fast = detail::read_coco_results_fast(file, gt, skip);
  ASSERT_TRUE(fast.has_value());
  expect_same(*fast, detail::read_coco_results_general(file, gt, skip));
  EXPECT_EQ(fast->skipped_unknown_image, 1u);
  EXPECT_EQ(fast->skipped_unknown_class, 1u);
  EXPECT_EQ(fast->outside_image, 1u);
  EXPECT_FALSE(detail::read_coco_results_fast(file, gt, {}).has_value());  // an error without skip_unknown
}

TEST(CocoResultsFast, DeclinesEverythingTheGeneralReaderRejectsAndWhatItDoesNotTake) {
  const fs::path dir = cvtk::testing::process_scratch_dir("coco_results_fast_decline");
  const Dataset gt = ground_truth();
  const std::string good = R"({"image_id": 100, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5})";
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return "[" + s + "]";
  };
  const std::vector<std::string> files = {
      "",
      "  ",
      "{}",
      "[" + good + ",]",
      "[" + good + "] x",
      "[" + good,
      "[1]",
      with("0.5", "NaN"),
      with("0.5", "1e400"),
      with("0.5", "1e-400"),
      with("0.5", "00.5"),
      with("0.5", ".5"),
      with("0.5", "5."),
      with("0.5", "\"0.5\""),
      with("[1,", "[18446744073709551616,"),
      with("100", "18446744073709551615"),
      with("100", "100.5"),
      with("100", "\"im0\""),
      with("100", "7"),
      with("\"category_id\": 1", "\"category_id\": 2"),
      with("3, 4]", "-3, 4]"),
      with("3, 4]", "3]"),
      with("3, 4]", "3, 4, 5]"),
      with("\"score\"", "\"a\\nb\": 1, \"score\""),
      with("\"score\"", "\"\xC3\xA9\": 1, \"score\""),
      with("\"score\"", "\"a\tb\": 1, \"score\""),
      with("\"score\": 0.5", "\"score\": 0.5, \"score\": 0.7"),
      with(", \"score\": 0.5", ""),
      with("\"score\"", "\"x\": tru, \"score\""),
      with("\"score\"", "\"x\": " + std::string(100, '[') + std::string(100, ']') + ", \"score\"")};
  for (size_t k = 0; k < files.size(); ++k) {
    SCOPED_TRACE("file " + std::to_string(k) + ": " + files[k].substr(0, 120));
    const fs::path file = dir / ("f" + std::to_string(k) + ".json");
    write(file, files[k]);
    EXPECT_FALSE(detail::read_coco_results_fast(file, gt, {}).has_value());
  }
  EXPECT_FALSE(detail::read_coco_results_fast(dir / "missing.json", gt, {}).has_value());
  EXPECT_FALSE(detail::read_coco_results_fast(dir, gt, {}).has_value());
  // Taken: an empty array, and members it skips.
  write(dir / "empty.json", " [ ] \n");
  ASSERT_TRUE(detail::read_coco_results_fast(dir / "empty.json", gt, {}).has_value());
  EXPECT_TRUE(detail::read_coco_results_fast(dir / "empty.json", gt, {})->detections.empty());
}

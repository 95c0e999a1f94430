// `cvtk eval` on files (metrics/eval_files.h), end to end on a generated VOC dataset: image ids that
// refer to the same images whatever the split or format, the coverage every report states, and
// outputs that appear all together or not at all.
#include "metrics/eval_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "metrics/output_files.h"
#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/synth.h"

namespace fs = std::filesystem;
using namespace cvtk;

namespace {

// 6 train and 6 val images, made once per test binary run.
const fs::path& synth_dataset() {
  static const fs::path dir = [] {
    const fs::path d = cvtk::testing::process_scratch_dir("eval_files_synth") / "shapes";
    data::SynthOptions o;
    o.train_images = 6;
    o.val_images = 6;
    o.width = o.height = 96;
    o.min_size = 16;
    o.max_size = 48;
    o.seed = 21;
    data::write_synthetic_dataset(d, o);
    return d;
  }();
  return dir;
}

data::Dataset read(const fs::path& path, const std::string& split = "") {
  data::ReadOptions o;
  o.split = split;
  return data::read_dataset(path, o);
}

// Per object a shifted box of its class and a box of another class; scores from four values, so many
// are tied across images (the COCO protocol then orders by image id).
std::vector<data::Detection> made_up_detections(const data::Dataset& gt) {
  std::mt19937 rng(3);
  const double kScores[] = {0.3, 0.5, 0.7, 0.9};
  std::vector<data::Detection> dets;
  for (const auto& im : gt.images)
    for (const auto& o : im.objects) {
      const double dx = static_cast<double>(rng() % 5) - 2, dy = static_cast<double>(rng() % 5);
      dets.push_back({im.id, o.label, kScores[rng() % 4], {o.box.x1 + dx, o.box.y1 + dy, o.box.x2 + dx, o.box.y2}});
      const int other = static_cast<int>((o.label + 1 + rng() % 3) % gt.classes.size());
      dets.push_back({im.id, other, kScores[rng() % 4], {o.box.x1, o.box.y1, o.box.x2 - 3, o.box.y2 - 3}});
    }
  return dets;
}

struct EvalRun {
  std::string printed;
  nlohmann::json json;
};

EvalRun run(metrics::EvalFilesOptions o, const fs::path& json_out) {
  o.json = json_out;
  std::ostringstream out;
  EXPECT_EQ(metrics::run_eval_files(o, out), 0);
  std::ifstream in(json_out);
  return {out.str(), nlohmann::json::parse(in)};
}

metrics::EvalFilesOptions options(const fs::path& gt, const fs::path& dets, const std::string& split = "") {
  metrics::EvalFilesOptions o;
  o.ground_truth = gt;
  o.detections = dets;
  o.read.split = split;
  o.protocols = {"all"};
  o.threads = 1;
  return o;
}

// Same numbers, class by class and count by count, in every protocol.
void expect_same_numbers(const nlohmann::json& a, const nlohmann::json& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i]["protocol"].get<std::string>());
    EXPECT_EQ(a[i]["summary"], b[i]["summary"]);
    EXPECT_EQ(a[i]["classes"], b[i]["classes"]);
    EXPECT_EQ(a[i]["counts"], b[i]["counts"]);
  }
}

size_t total_tp(const nlohmann::json& report) {
  size_t n = 0;
  for (const auto& c : report["classes"]) n += c["tp"].get<size_t>();
  return n;
}

bool has_leftovers(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST(EvalFiles, ConvertedCocoJsonGivesExactlyTheNumbersOfTheVocDataset) {
  const fs::path root = synth_dataset();
  const fs::path dir = cvtk::testing::scratch_dir("eval_files_convert");
  const data::Dataset all = read(root), val = read(root, "val");
  data::write_coco_results(made_up_detections(val), val, dir / "dets.json");
  data::WriteOptions w;
  w.format = data::Format::kCoco;
  data::write_dataset(all, dir / "all.json", w);  // `cvtk data convert --to coco`
  data::write_dataset(val, dir / "val.json", w);  // the same with --split val

  const EvalRun voc_val = run(options(root, dir / "dets.json", "val"), dir / "a.json");
  const EvalRun coco_val = run(options(dir / "val.json", dir / "dets.json"), dir / "b.json");
  expect_same_numbers(voc_val.json, coco_val.json);
  const EvalRun voc_all = run(options(root, dir / "dets.json"), dir / "c.json");
  const EvalRun coco_all = run(options(dir / "all.json", dir / "dets.json"), dir / "d.json");
  expect_same_numbers(voc_all.json, coco_all.json);

  // The detections name the val images whatever the split the ground truth is read with: the same
  // true positives with and without --split (before, ids were positions in the split, so without it
  // they landed on train images).
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(total_tp(voc_all.json[i]), total_tp(voc_val.json[i])) << i;
  EXPECT_GT(total_tp(voc_val.json[1]), val.object_count() / 2);
  EXPECT_EQ(voc_all.json[0]["counts"]["images_with_detections"], 6);
  EXPECT_EQ(voc_all.json[0]["counts"]["images"], 12);
}

TEST(EvalFiles, PerfectDetectionsWithAnotherFilesIdsAreAnErrorNotANearZeroMap) {
  const fs::path root = synth_dataset();
  const fs::path dir = cvtk::testing::scratch_dir("eval_files_perfect");
  // A COCO json of the val split numbered 1..N in split order (as BCCD's instances_val.json), and
  // perfect results in its ids.
  data::Dataset numbered = read(root, "val");
  for (size_t i = 0; i < numbered.images.size(); ++i) numbered.images[i].id = static_cast<int64_t>(i) + 1;
  data::WriteOptions w;
  w.format = data::Format::kCoco;
  data::write_dataset(numbered, dir / "instances_val.json", w);
  std::vector<data::Detection> perfect;
  for (const auto& im : numbered.images)
    for (const auto& o : im.objects) perfect.push_back({im.id, o.label, 1.0, o.box});
  data::write_coco_results(perfect, numbered, dir / "perfect.json");

  // Against the json the ids come from: 1.
  const EvalRun ok = run(options(dir / "instances_val.json", dir / "perfect.json"), dir / "ok.json");
  for (const auto& r : ok.json) EXPECT_NEAR(r["summary"].begin().value().get<double>(), 1.0, 1e-12) << r["protocol"];
  // Against the VOC directory, with or without --split: an error naming the entry and the field
  // (before: matched by position, mAP near 0 without --split, 1 by luck with it).
  for (const std::string split : {"", "val"}) {
    std::ostringstream out;
    try {
      metrics::run_eval_files(options(root, dir / "perfect.json", split), out);
      ADD_FAILURE() << "expected an error (split '" << split << "')";
    } catch (const data::FormatError& e) {
      EXPECT_EQ(e.entry(), "[0]");
      EXPECT_EQ(e.field(), "image_id");
      EXPECT_NE(std::string(e.what()).find("derived from their names"), std::string::npos) << e.what();
    }
  }
  // --skip-unknown counts them instead, and every report says so.
  metrics::EvalFilesOptions skip = options(root, dir / "perfect.json");
  skip.skip_unknown = true;
  const EvalRun skipped = run(skip, dir / "skipped.json");
  EXPECT_EQ(skipped.json[0]["counts"]["skipped_unknown_image"], perfect.size());
  EXPECT_EQ(skipped.json[0]["counts"]["images_with_detections"], 0);
  EXPECT_NE(
      skipped.printed.find("detections on 0 of 12 images; " + std::to_string(perfect.size()) + " matched no image"),
      std::string::npos)
      << skipped.printed;
}

TEST(EvalFiles, EveryReportFormStatesTheCoverage) {
  const fs::path root = synth_dataset();
  const fs::path dir = cvtk::testing::scratch_dir("eval_files_coverage");
  const data::Dataset val = read(root, "val");
  // File-name ids for the val images only, evaluated against every image.
  std::string text = "[";
  for (const auto& im : val.images)
    text += std::string(text.size() > 1 ? ",\n" : "\n") + "{\"image_id\": \"" + fs::path(im.file).filename().string() +
            "\", \"category_id\": 1, \"bbox\": [1, 1, 20, 20], \"score\": 0.5}";
  data::write_file_atomic(dir / "names.json", text + "]\n");
  metrics::EvalFilesOptions o = options(root, dir / "names.json");
  o.csv = dir / "r.csv";
  o.html = dir / "r.html";
  const EvalRun r = run(o, dir / "r.json");
  EXPECT_NE(r.printed.find("detections on 6 of 12 images; 0 matched no image, 0 no class"), std::string::npos)
      << r.printed;
  EXPECT_NE(r.printed.find("warning: detections on only 6 of 12 ground-truth images (6 have none)"), std::string::npos)
      << r.printed;
  EXPECT_EQ(r.json[0]["counts"]["images_with_detections"], 6);
  const std::string csv = data::read_file(dir / "r.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_NE(header.find(",images,images_with_detections,skipped_unknown_image,skipped_unknown_class"),
            std::string::npos)
      << header;
  const std::string row = csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n') - 1);
  EXPECT_EQ(row.substr(row.size() - 9), ",12,6,0,0") << row;
  EXPECT_NE(data::read_file(dir / "r.html").find("detections on 6 of 12 images"), std::string::npos);
}

TEST(EvalFiles, AFailedWriterLeavesNothingAndExistingFilesAsTheyWere) {
  const fs::path root = synth_dataset();
  const fs::path dir = cvtk::testing::scratch_dir("eval_files_writers");
  const data::Dataset val = read(root, "val");
  data::write_coco_results(made_up_detections(val), val, dir / "dets.json");
  data::write_file_atomic(dir / "old.json", "old\n");
  data::write_file_atomic(dir / "blocker", "a file where the csv's directory should be\n");
  metrics::EvalFilesOptions o = options(root, dir / "dets.json", "val");
  o.json = dir / "old.json";
  o.csv = dir / "blocker" / "r.csv";
  o.plots = dir / "plots";
  o.html = dir / "r.html";
  std::ostringstream out;
  // Before, the JSON was written (and the old file lost) before the CSV failed.
  EXPECT_THROW(metrics::run_eval_files(o, out), data::IoError);
  EXPECT_EQ(data::read_file(dir / "old.json"), "old\n");
  EXPECT_FALSE(fs::exists(dir / "plots"));
  EXPECT_FALSE(fs::exists(dir / "r.html"));
  EXPECT_FALSE(has_leftovers(dir));

  // Succeeding, it says which files it replaced.
  o.csv = dir / "r.csv";
  std::ostringstream ok;
  ASSERT_EQ(metrics::run_eval_files(o, ok), 0);
  EXPECT_NE(ok.str().find("replaced " + (dir / "old.json").string() + "\n"), std::string::npos) << ok.str();
  EXPECT_NE(ok.str().find("wrote " + (dir / "r.csv").string() + "\n"), std::string::npos) << ok.str();
  EXPECT_NE(ok.str().find("precision-recall plots in " + (dir / "plots").string() + "\n"), std::string::npos)
      << ok.str();
  EXPECT_NE(data::read_file(dir / "old.json"), "old\n");
  EXPECT_TRUE(fs::exists(dir / "plots" / "coco_all.png"));
  EXPECT_TRUE(fs::exists(dir / "r.html"));
  std::ostringstream again;
  ASSERT_EQ(metrics::run_eval_files(o, again), 0);
  EXPECT_NE(again.str().find("(replaced "), std::string::npos) << again.str();
  EXPECT_NE(again.str().find("replaced " + (dir / "r.html").string()), std::string::npos) << again.str();
  EXPECT_FALSE(has_leftovers(dir));
}

TEST(OutputFiles, NewDirectoriesGoAwayWhenTheCommitFails) {
  const fs::path dir = cvtk::testing::scratch_dir("output_files");
  data::write_file_atomic(dir / "blocker", "x");
  metrics::OutputFiles files;
  files.add(dir / "new" / "deeper" / "a.txt", "a");
  files.add(dir / "blocker" / "b.txt", "b");
  EXPECT_THROW(files.commit(), data::IoError);
  EXPECT_FALSE(fs::exists(dir / "new"));
  EXPECT_FALSE(has_leftovers(dir));
  // A directory where a file should go is refused before anything is written.
  fs::create_directories(dir / "is_dir");
  metrics::OutputFiles refused;
  refused.add(dir / "c.txt", "c");
  refused.add(dir / "is_dir", "d");
  EXPECT_THROW(refused.commit(), data::IoError);
  EXPECT_FALSE(fs::exists(dir / "c.txt"));
  metrics::OutputFiles fine;
  fine.add(dir / "new" / "a.txt", "a");
  const auto placed = fine.commit();
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_FALSE(placed[0].replaced);
  EXPECT_EQ(data::read_file(dir / "new" / "a.txt"), "a");
}

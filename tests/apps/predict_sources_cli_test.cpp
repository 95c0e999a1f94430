// cvtk predict on what users have: globs, directories, video files (in and out), a camera that is not
// there, --classes, --save-txt / --save-conf checked against predictions.json, and --save-crops.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "tests/apps/cli_run.h"
#include "tests/common.h"

namespace fs = std::filesystem;
using cvtk::testing::CliRun;
using cvtk::testing::run_cvtk;
using cvtk::testing::run_cvtk_stderr;

namespace {

const std::vector<std::string> kClasses = {"circle", "square", "triangle", "star", "cross"};

// One synthetic dataset, one briefly trained checkpoint and one small video shared by this file's tests.
class PredictSources : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = cvtk::testing::process_scratch_dir("predict_sources_cli");
    CliRun s = run_cvtk("synth " + cvtk::testing::quoted(dir_ / "shapes") +
                        " --train 16 --val 8 --width 128 --height 96 --max-size 64 --seed 5");
    ASSERT_EQ(s.code, 0) << s.output;
    CliRun t = run_cvtk("train --data " + cvtk::testing::quoted(dir_ / "shapes") +
                        " --epochs 1 --size 128 --batch 4 --rcnn-rois 64 --lr 0.02 --warmup 4 --threads 2"
                        " --loader-threads 2 --val-split none --out " +
                        cvtk::testing::quoted(dir_ / "run"));
    ASSERT_EQ(t.code, 0) << t.output;
    // 10 frames of 160x120 at 7 fps, from the validation images (each twice, resized).
    cv::VideoWriter w((dir_ / "clip.mp4").string(), cv::VideoWriter::fourcc('m', 'p', '4', 'v'), 7, {160, 120});
    ASSERT_TRUE(w.isOpened());
    for (int i = 0; i < 10; ++i) {
      cv::Mat m = cv::imread((images() / ("val_0000" + std::to_string(i % 5) + ".jpg")).string());
      ASSERT_FALSE(m.empty());
      cv::resize(m, m, {160, 120});
      w.write(m);
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path images() { return dir_ / "shapes" / "JPEGImages"; }
  static std::string weights() {
    return " --weights " + cvtk::testing::quoted(dir_ / "run" / "last.pt") + " --threads 2";
  }
  static fs::path dir_;
};
fs::path PredictSources::dir_;

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(cvtk::testing::read_file(file)); }

// images.csv: image id -> (file, width, height).
struct ImageRow {
  std::string file;
  int width = 0, height = 0;
};
std::map<int64_t, ImageRow> read_images_csv(const fs::path& file) {
  std::map<int64_t, ImageRow> rows;
  std::istringstream in(cvtk::testing::read_file(file));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (f.size() >= 4) rows[std::stoll(f[0])] = {f[1], std::stoi(f[2]), std::stoi(f[3])};
  }
  return rows;
}

std::vector<std::vector<double>> read_label_lines(const fs::path& file) {
  std::vector<std::vector<double>> lines;
  std::istringstream in(cvtk::testing::read_file(file));
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<double> v;
    for (double x; ls >> x;) v.push_back(x);
    lines.push_back(v);
  }
  return lines;
}

}  // namespace

// A quoted glob is expanded by cvtk, sorted, named relative to its directory part; ** reaches into
// subdirectories; a pattern matching nothing is an error naming it, and writes nothing.
TEST_F(PredictSources, GlobsAndDirectories) {
  CliRun g = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(images() / "val_0000[3-6].jpg") +
                      " --no-draw --out " + cvtk::testing::quoted(dir_ / "glob"));
  ASSERT_EQ(g.code, 0) << g.output;
  EXPECT_NE(g.output.find("4 images matching the pattern"), std::string::npos) << g.output;
  const std::string csv = cvtk::testing::read_file(dir_ / "glob" / "images.csv");
  size_t last = 0;
  for (const char* name : {"val_00003.jpg", "val_00004.jpg", "val_00005.jpg", "val_00006.jpg"}) {
    const size_t at = csv.find(std::string(",") + name + ",");
    ASSERT_NE(at, std::string::npos) << name << "\n" << csv;
    EXPECT_GT(at, last) << "not sorted:\n" << csv;
    last = at;
  }
  EXPECT_EQ(csv.find("val_00002"), std::string::npos) << csv;

  fs::create_directories(dir_ / "tree" / "a" / "b");
  fs::copy_file(images() / "val_00001.jpg", dir_ / "tree" / "a" / "b" / "x.jpg");
  fs::copy_file(images() / "val_00002.jpg", dir_ / "tree" / "y.jpg");
  cvtk::testing::write_text(dir_ / "tree" / "notes.txt", "not an image");
  CliRun deep = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(dir_ / "tree" / "**" / "*") +
                         " --out " + cvtk::testing::quoted(dir_ / "deep"));
  ASSERT_EQ(deep.code, 0) << deep.output;
  EXPECT_NE(deep.output.find("2 images matching the pattern (1 matching files that are not images ignored)"),
            std::string::npos)
      << deep.output;
  EXPECT_TRUE(fs::exists(dir_ / "deep" / "images" / "a" / "b" / "x.jpg"));
  EXPECT_TRUE(fs::exists(dir_ / "deep" / "images" / "y.jpg"));

  CliRun dir = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(dir_ / "tree") +
                        " --no-draw --out " + cvtk::testing::quoted(dir_ / "dir"));
  ASSERT_EQ(dir.code, 0) << dir.output;
  EXPECT_NE(dir.output.find(", 2 images\n"), std::string::npos) << dir.output;

  for (const std::string& pattern : {(dir_ / "tree" / "*.png").string(), (dir_ / "nowhere" / "*.jpg").string()}) {
    CliRun none = run_cvtk_stderr("predict" + weights() + " --source " + cvtk::testing::quoted(pattern) + " --out " +
                                  cvtk::testing::quoted(dir_ / "none"));
    EXPECT_TRUE(cvtk::testing::FailsWithOneLine(none)) << pattern;
    EXPECT_NE(none.err.find("--source " + pattern + ": no file matches the pattern"), std::string::npos) << none.err;
    EXPECT_FALSE(fs::exists(dir_ / "none"));
  }
  CliRun texts = run_cvtk_stderr("predict" + weights() + " --source " + cvtk::testing::quoted(dir_ / "tree" / "*.txt") +
                                 " --out " + cvtk::testing::quoted(dir_ / "none"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(texts));
  EXPECT_NE(texts.err.find("1 file matches the pattern, none of them an image"), std::string::npos) << texts.err;
  EXPECT_FALSE(fs::exists(dir_ / "none"));
}

// A directory's images are named by their path under it, a symbolic link by the link's own path (not
// its target's, which may lie elsewhere); a dangling link is no image and does not stop the listing.
TEST_F(PredictSources, DirectoriesNameLinkedImagesByTheirLinks) {
  const fs::path src = dir_ / "linked";
  fs::create_directories(src / "sub");
  fs::copy_file(images() / "val_00001.jpg", src / "a.jpg");
  fs::create_symlink(images() / "val_00002.jpg", src / "sub" / "b.jpg");
  fs::create_symlink(dir_ / "nowhere.jpg", src / "c.jpg");
  CliRun r = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(src) + " --out " +
                      cvtk::testing::quoted(dir_ / "linked_out"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find(", 2 images\n"), std::string::npos) << r.output;
  std::set<std::string> files;
  for (const auto& [id, row] : read_images_csv(dir_ / "linked_out" / "images.csv")) files.insert(row.file);
  EXPECT_EQ(files, (std::set<std::string>{"a.jpg", "sub/b.jpg"}));
  EXPECT_TRUE(fs::exists(dir_ / "linked_out" / "images" / "sub" / "b.jpg"));
}

// An unreadable image among readable ones is named, counted and skipped; the run succeeds.
TEST_F(PredictSources, UnreadableImagesAreNamedAndCounted) {
  fs::create_directories(dir_ / "mixed");
  fs::copy_file(images() / "val_00001.jpg", dir_ / "mixed" / "good.jpg");
  cvtk::testing::write_text(dir_ / "mixed" / "broken.jpg", "not a jpeg");
  CliRun r = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(dir_ / "mixed" / "*.jpg") +
                      " --save-txt --out " + cvtk::testing::quoted(dir_ / "mixed_out"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("predict: 1 images (1 unreadable, skipped)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unreadable: " + (dir_ / "mixed" / "broken.jpg").string()), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir_ / "mixed_out" / "labels" / "good.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "mixed_out" / "labels" / "broken.txt"));
}

// A video in, the drawn video out with the same frame count, size and rate; per-frame detections in
// predictions.json (image_id = frame) and per-frame label files; --max-frames stops early.
TEST_F(PredictSources, VideoInVideoOut) {
  CliRun r = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(dir_ / "clip.mp4") +
                      " --score 0.05 --batch 3 --save-txt --out " + cvtk::testing::quoted(dir_ / "video"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("a video (160x120, 7 fps, 10 frames)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("predict: 10 frames, "), std::string::npos) << r.output;
  cv::VideoCapture out((dir_ / "video" / "clip.mp4").string());
  ASSERT_TRUE(out.isOpened()) << r.output;
  EXPECT_DOUBLE_EQ(out.get(cv::CAP_PROP_FPS), 7);
  int frames = 0;
  for (cv::Mat f; out.read(f); ++frames) EXPECT_EQ(f.size(), cv::Size(160, 120));
  EXPECT_EQ(frames, 10);
  const auto dets = read_json(dir_ / "video" / "predictions.json");
  ASSERT_FALSE(dets.empty()) << "an untrained model still gives boxes at 0.05";
  std::map<int64_t, size_t> per_frame;
  for (const auto& d : dets) {
    const int64_t id = d["image_id"].get<int64_t>();
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 10);
    ++per_frame[id];
  }
  for (int i = 0; i < 10; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "clip_%06d.txt", i);
    ASSERT_TRUE(fs::exists(dir_ / "video" / "labels" / name)) << name;
    EXPECT_EQ(read_label_lines(dir_ / "video" / "labels" / name).size(), per_frame[i]) << name;
  }

  CliRun limited = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(dir_ / "clip.mp4") +
                            " --max-frames 4 --out " + cvtk::testing::quoted(dir_ / "video4"));
  ASSERT_EQ(limited.code, 0) << limited.output;
  cv::VideoCapture four((dir_ / "video4" / "clip.mp4").string());
  frames = 0;
  for (cv::Mat f; four.read(f);) ++frames;
  EXPECT_EQ(frames, 4);

  // A file named like a video that is none, and a camera that is not there: one line, nothing written.
  cvtk::testing::write_text(dir_ / "fake.mp4", "not really a video");
  for (const std::string& source : {cvtk::testing::quoted(dir_ / "fake.mp4"), std::string("97")}) {
    CliRun bad = run_cvtk_stderr("predict" + weights() + " --source " + source + " --out " +
                                 cvtk::testing::quoted(dir_ / "bad"));
    EXPECT_TRUE(cvtk::testing::FailsWithOneLine(bad)) << source;
    EXPECT_NE(bad.err.find(source == "97" ? "--source 97: cannot open camera 97" : "cannot open the video"),
              std::string::npos)
        << bad.err;
    EXPECT_FALSE(fs::exists(dir_ / "bad"));
  }
  CliRun frames_of_images = run_cvtk_stderr("predict" + weights() + " --source " + cvtk::testing::quoted(images()) +
                                            " --max-frames 3 --out " + cvtk::testing::quoted(dir_ / "bad"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(frames_of_images));
  EXPECT_NE(frames_of_images.err.find("--max-frames: only for a video or camera"), std::string::npos)
      << frames_of_images.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

// --classes keeps only the classes named; an unknown name is an error listing the model's classes.
TEST_F(PredictSources, ClassesFilter) {
  const std::string source = " --source " + cvtk::testing::quoted(images()) + " --score 0 --no-draw";
  CliRun all = run_cvtk("predict" + weights() + source + " --out " + cvtk::testing::quoted(dir_ / "all"));
  ASSERT_EQ(all.code, 0) << all.output;
  CliRun two =
      run_cvtk("predict" + weights() + source + " --classes star,circle --out " + cvtk::testing::quoted(dir_ / "two"));
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_NE(two.output.find("of class star, circle"), std::string::npos) << two.output;
  std::multiset<std::string> expected, got;
  auto key = [](const nlohmann::json& d) { return d.dump(); };
  for (const auto& d : read_json(dir_ / "all" / "predictions.json"))
    if (d["category_id"] == 1 || d["category_id"] == 4) expected.insert(key(d));  // circle, star
  for (const auto& d : read_json(dir_ / "two" / "predictions.json")) got.insert(key(d));
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(got, expected);

  CliRun unknown = run_cvtk_stderr("predict" + weights() + source + " --classes circle,dog --out " +
                                   cvtk::testing::quoted(dir_ / "bad"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(unknown));
  EXPECT_NE(unknown.err.find("--classes 'dog': not a class of the model (its classes: circle, square, triangle, "
                             "star, cross)"),
            std::string::npos)
      << unknown.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

// --save-txt writes "class cx cy w h" normalised to each image, one line per detection of
// predictions.json in its order, and the score as a sixth column only with --save-conf.
TEST_F(PredictSources, SaveTxtMatchesTheDetections) {
  const std::string source =
      " --source " + cvtk::testing::quoted(images() / "val_*.jpg") + " --score 0.1 --no-draw --save-txt";
  CliRun conf = run_cvtk("predict" + weights() + source + " --save-conf --out " + cvtk::testing::quoted(dir_ / "txt"));
  ASSERT_EQ(conf.code, 0) << conf.output;
  CliRun plain = run_cvtk("predict" + weights() + source + " --out " + cvtk::testing::quoted(dir_ / "txt5"));
  ASSERT_EQ(plain.code, 0) << plain.output;
  const auto rows = read_images_csv(dir_ / "txt" / "images.csv");
  ASSERT_EQ(rows.size(), 8u);
  std::map<int64_t, std::vector<nlohmann::json>> by_image;
  for (const auto& d : read_json(dir_ / "txt" / "predictions.json")) by_image[d["image_id"]].push_back(d);
  size_t checked = 0;
  for (const auto& [id, row] : rows) {
    const std::string stem = fs::path(row.file).stem().string();
    const auto lines = read_label_lines(dir_ / "txt" / "labels" / (stem + ".txt"));
    const auto five = read_label_lines(dir_ / "txt5" / "labels" / (stem + ".txt"));
    const auto& dets = by_image[id];
    ASSERT_EQ(lines.size(), dets.size()) << stem;
    ASSERT_EQ(five.size(), dets.size()) << stem;
    for (size_t k = 0; k < dets.size(); ++k) {
      const auto& b = dets[k]["bbox"];
      const double x = b[0], y = b[1], w = b[2], h = b[3];
      ASSERT_EQ(lines[k].size(), 6u);
      ASSERT_EQ(five[k].size(), 5u);
      EXPECT_EQ(lines[k][0], dets[k]["category_id"].get<double>() - 1);  // class index = category id - 1
      EXPECT_NEAR(lines[k][1], (x + w / 2) / row.width, 1e-6);
      EXPECT_NEAR(lines[k][2], (y + h / 2) / row.height, 1e-6);
      EXPECT_NEAR(lines[k][3], w / row.width, 1e-6);
      EXPECT_NEAR(lines[k][4], h / row.height, 1e-6);
      EXPECT_NEAR(lines[k][5], dets[k]["score"].get<double>(), 1e-6);
      for (int c = 0; c < 5; ++c) EXPECT_EQ(five[k][size_t(c)], lines[k][size_t(c)]);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
  CliRun conf_alone = run_cvtk_stderr("predict" + weights() + " --source " + cvtk::testing::quoted(images()) +
                                      " --save-conf --out " + cvtk::testing::quoted(dir_ / "bad"));
  EXPECT_TRUE(cvtk::testing::FailsWithOneLine(conf_alone));
  EXPECT_NE(conf_alone.err.find("--save-conf: needs --save-txt"), std::string::npos) << conf_alone.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

// --save-crops writes each detection's pixels, cut to the image, as crops/<class>/<image>_<n>.jpg.
TEST_F(PredictSources, SaveCrops) {
  CliRun r = run_cvtk("predict" + weights() + " --source " + cvtk::testing::quoted(images() / "val_0000[01].jpg") +
                      " --score 0.1 --no-draw --save-crops --out " + cvtk::testing::quoted(dir_ / "crops"));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto rows = read_images_csv(dir_ / "crops" / "images.csv");
  std::map<int64_t, int> n;
  size_t files = 0;
  for (const auto& d : read_json(dir_ / "crops" / "predictions.json")) {
    const int64_t id = d["image_id"];
    const auto& row = rows.at(id);
    const std::string cls = kClasses.at(d["category_id"].get<size_t>() - 1);
    const fs::path crop =
        dir_ / "crops" / "crops" / cls / (fs::path(row.file).stem().string() + "_" + std::to_string(++n[id]) + ".jpg");
    const cv::Mat m = cv::imread(crop.string());
    ASSERT_FALSE(m.empty()) << crop;
    const auto& b = d["bbox"];
    const double x1 = b[0], y1 = b[1], x2 = x1 + b[2].get<double>(), y2 = y1 + b[3].get<double>();
    const int w = std::min(row.width, int(std::ceil(x2))) - std::max(0, int(std::floor(x1)));
    const int h = std::min(row.height, int(std::ceil(y2))) - std::max(0, int(std::floor(y1)));
    EXPECT_EQ(m.size(), cv::Size(w, h)) << crop;
    ++files;
  }
  EXPECT_GT(files, 0u);
  size_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "crops" / "crops")) on_disk += e.is_regular_file();
  EXPECT_EQ(on_disk, files);
}

// What `cvtk augment preview` and `cvtk augment list` do, through their library functions.
#include <gtest/gtest.h>

#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "augment/pipeline.h"
#include "augment/preview.h"
#include "augment/registry.h"
#include "tests/common.h"
#include "vision/data/synth.h"

namespace fs = std::filesystem;
using namespace cvtk::augment;

namespace {

// A synthetic dataset in dir/shapes: `train` training images and one validation image of width x height.
fs::path shapes(const fs::path& dir, int train, int width, int height) {
  cvtk::data::SynthOptions so;
  so.train_images = train;
  so.val_images = 1;
  so.width = width;
  so.height = height;
  so.min_size = 12;
  so.max_size = std::min(width, height) / 2;
  cvtk::data::write_synthetic_dataset(dir / "shapes", so);
  return dir / "shapes";
}

}  // namespace

TEST(Preview, WritesImagesAndMosaic) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_preview");
  PreviewOptions o;
  o.dataset = shapes(dir, 6, 96, 80);
  o.split = "train";
  o.pipeline = "thundernet-train-erase";
  o.n = 5;
  o.size = 64;
  o.out = dir / "out";
  std::ostringstream log;
  const PreviewReport r = write_preview(o, log);
  ASSERT_EQ(r.written.size(), 6u) << log.str();
  EXPECT_EQ(r.written.back().filename(), "mosaic.jpg");
  const cv::Mat first = cv::imread(r.written[0].string());
  EXPECT_EQ(first.size(), cv::Size(64, 64));
  const cv::Mat mosaic = cv::imread(r.written.back().string());
  EXPECT_EQ(mosaic.size(), cv::Size(4 * 64, 2 * 64));
  EXPECT_NE(log.str().find("erase(p=0.5"), std::string::npos);
  // The same seed writes the same pixels.
  o.out = dir / "again";
  std::ostringstream log2;
  const PreviewReport r2 = write_preview(o, log2);
  cv::Mat diff;
  cv::absdiff(cv::imread(r2.written[2].string()), cv::imread(r.written[2].string()), diff);
  EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0);

  o.pipeline = "hflip(p=0.5) flop";
  EXPECT_THROW(write_preview(o, log2), std::invalid_argument);
}

// A second preview into the same --out goes to a numbered sibling; --exist-ok replaces the contents
// whole (nothing of the earlier run is left); a dataset none of whose images decode is an error that
// writes nothing.
TEST(Preview, NeverOverwritesAndWritesNothingWhenNoImageReads) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_preview_out");
  PreviewOptions o;
  o.dataset = shapes(dir, 3, 64, 64);
  o.split = "train";
  o.pipeline = "hflip(p=0.5)";
  o.n = 3;
  o.size = 64;
  o.out = dir / "preview";
  std::ostringstream log;
  const PreviewReport first = write_preview(o, log);
  EXPECT_EQ(first.out, dir / "preview");
  cvtk::testing::write_text(dir / "preview" / "mine.txt", "kept");
  const PreviewReport second = write_preview(o, log);
  EXPECT_EQ(second.out, dir / "preview2");
  EXPECT_TRUE(fs::exists(dir / "preview" / "mine.txt"));
  EXPECT_EQ(second.written.size(), 4u);
  for (const auto& f : second.written) EXPECT_TRUE(fs::exists(f)) << f;

  o.exist_ok = true;
  o.n = 1;
  const PreviewReport replaced = write_preview(o, log);
  EXPECT_EQ(replaced.out, dir / "preview");
  EXPECT_FALSE(fs::exists(dir / "preview" / "mine.txt"));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "preview")) files += e.is_regular_file();
  EXPECT_EQ(files, 2u);  // one image and the mosaic

  for (const auto& e : fs::directory_iterator(dir / "shapes" / "JPEGImages"))
    cvtk::testing::write_text(e.path(), "not an image");
  o.exist_ok = false;
  o.out = dir / "broken";
  try {
    write_preview(o, log);
    ADD_FAILURE() << "no readable image, yet no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("none of the first 1 images could be read"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "broken"));
  size_t siblings = 0;
  for (const auto& e : fs::directory_iterator(dir)) siblings += e.path().filename().string().rfind(".broken", 0) == 0;
  EXPECT_EQ(siblings, 0u) << "a staging directory was left behind";
}

TEST(Preview, ListShowsEveryTransformAndPreset) {
  std::ostringstream out;
  print_registry(out);
  for (const TransformInfo& t : transform_registry())
    EXPECT_NE(out.str().find("  " + t.name + " ["), std::string::npos);
  for (const std::string& p : preset_names()) EXPECT_NE(out.str().find("  " + p + "\n"), std::string::npos);
}

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

TEST(Preview, WritesImagesAndMosaic) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_preview");
  cvtk::data::SynthOptions so;
  so.train_images = 6;
  so.val_images = 2;
  so.width = 96;
  so.height = 80;
  so.min_size = 16;
  so.max_size = 40;
  cvtk::data::write_synthetic_dataset(dir / "shapes", so);
  PreviewOptions o;
  o.dataset = dir / "shapes";
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

TEST(Preview, ListShowsEveryTransformAndPreset) {
  std::ostringstream out;
  print_registry(out);
  for (const TransformInfo& t : transform_registry()) EXPECT_NE(out.str().find("  " + t.name + " ["), std::string::npos);
  for (const std::string& p : preset_names()) EXPECT_NE(out.str().find("  " + p + "\n"), std::string::npos);
}

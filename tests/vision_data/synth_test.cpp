#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/file_util.h"
#include "vision/data/image_size.h"
#include "vision/data/synth.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

TEST(Synth, SameSeedGivesIdenticalFilesWhateverTheThreadCount) {
  SynthOptions o;
  o.train_images = 10;
  o.val_images = 3;
  o.seed = 7;
  const fs::path dir = cvtk::testing::scratch_dir("synth_det");
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    write_synthetic_dataset(dir / "a", o);
  }
  write_synthetic_dataset(dir / "b", o);
  o.seed = 8;
  write_synthetic_dataset(dir / "c", o);
  size_t files = 0, differ_c = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "a")) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), dir / "a");
    EXPECT_EQ(read_file(e.path()), read_file(dir / "b" / rel)) << rel;
    if (fs::exists(dir / "c" / rel) && read_file(e.path()) != read_file(dir / "c" / rel)) ++differ_c;
    ++files;
  }
  EXPECT_EQ(files, 13u * 2 + 3);
  EXPECT_GT(differ_c, 20u);
}

TEST(Synth, BoxesHoldTheirShapesAndStayInside) {
  SynthOptions o;
  o.train_images = 20;
  o.val_images = 0;
  const fs::path dir = cvtk::testing::scratch_dir("synth_boxes");
  write_synthetic_dataset(dir / "s", o);
  ReadOptions r;
  r.split = "train";
  const Dataset ds = read_voc(dir / "s", r);
  ASSERT_EQ(ds.images.size(), 20u);
  ASSERT_EQ(ds.classes, synth_class_names());
  size_t objects = 0;
  for (const auto& im : ds.images) {
    const cv::Mat img = cv::imread((ds.image_root / im.file).string());
    ASSERT_FALSE(img.empty());
    for (const auto& obj : im.objects) {
      ++objects;
      EXPECT_TRUE(obj.box.inside(im.width, im.height));
      EXPECT_GE(obj.box.width(), o.min_size * 0.45);
      EXPECT_LE(obj.box.width(), o.max_size * 1.3 + 2);
    }
  }
  EXPECT_GT(objects, 40u);
}

TEST(ImageSize, HeaderReaderAgreesWithDecoder) {
  const fs::path dir = cvtk::testing::scratch_dir("image_size");
  cv::Mat img(37, 53, CV_8UC3, cv::Scalar(1, 2, 3));
  for (const char* ext : {".jpg", ".png", ".bmp"}) {
    const fs::path p = dir / (std::string("x") + ext);
    cv::imwrite(p.string(), img);
    auto s = read_image_size(p);
    ASSERT_TRUE(s) << ext;
    EXPECT_EQ(s->width, 53) << ext;
    EXPECT_EQ(s->height, 37) << ext;
  }
  std::ofstream(dir / "bad.jpg") << "\xff\xd8garbage";
  EXPECT_FALSE(read_image_size(dir / "bad.jpg"));
  EXPECT_FALSE(read_image_size(dir / "missing.jpg"));
}

// data check checks what the dataset holds: every split of a YOLO or COCO directory, every VOC split
// list, and it never calls a dataset without images clean; --decode finds truncated images.
#include "vision/data/check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/image_size.h"
#include "vision/data/synth.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

using cvtk::testing::write_text;

fs::path small_synth(const std::string& name) {
  const fs::path root = cvtk::testing::scratch_dir(name) / "shapes";
  SynthOptions o;
  o.train_images = 8;
  o.val_images = 4;
  o.width = 96;
  o.height = 80;
  o.min_size = 16;
  o.max_size = 40;
  o.seed = 3;
  write_synthetic_dataset(root, o);
  return root;
}

bool has_issue(const CheckReport& r, const std::string& kind, const std::string& text) {
  for (const Issue& i : r.issues)
    if (i.kind == kind && (i.file + " " + i.entry + " " + i.message).find(text) != std::string::npos) return true;
  return false;
}

std::string listing(const CheckReport& r) {
  std::ostringstream out;
  print_check_report(r, out);
  return out.str();
}

}  // namespace

// The defect: `data convert --to yolo --split train` writes images/train/, and checking that directory
// read the flat images/, found nothing and said "no problems found".
TEST(Check, YoloDirectoryWithSplitsIsCheckedSplitBySplit) {
  const fs::path voc = small_synth("check_yolo_splits");
  const fs::path yolo = voc.parent_path() / "yolo";
  ReadOptions train;
  train.split = "train";
  WriteOptions w;
  w.format = Format::kYolo;
  w.split = "train";
  write_dataset(read_dataset(voc, train), yolo, w);
  ASSERT_TRUE(fs::is_directory(yolo / "images" / "train"));

  const CheckReport r = check_dataset(yolo, CheckOptions{});
  EXPECT_EQ(r.images, 8u) << listing(r);
  EXPECT_TRUE(r.clean()) << listing(r);
  EXPECT_EQ(r.splits, std::vector<std::string>{"train"});
  EXPECT_NE(listing(r).find("splits   train"), std::string::npos) << listing(r);

  // A second split adds up, and a label line gone bad in it is listed.
  ReadOptions val;
  val.split = "val";
  const fs::path both = voc.parent_path() / "yolo_val";
  w.split = "val";
  write_dataset(read_dataset(voc, val), both, w);
  fs::rename(both / "images" / "val", yolo / "images" / "val");
  fs::rename(both / "labels" / "val", yolo / "labels" / "val");
  const fs::path label = *fs::directory_iterator(yolo / "labels" / "val");
  write_text(label, "0 0.5 0.5 0.2\n");
  const CheckReport r2 = check_dataset(yolo, CheckOptions{});
  EXPECT_EQ(r2.images, 12u) << listing(r2);
  EXPECT_EQ(r2.splits, (std::vector<std::string>{"train", "val"}));
  EXPECT_TRUE(has_issue(r2, "missing_field", "expected 5 values")) << listing(r2);

  // Strict reading of the flat layout says where the images are instead of reading none.
  try {
    read_dataset(yolo);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("--split"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("train, val"), std::string::npos) << e.what();
  }
}

TEST(Check, NoImagesIsAProblem) {
  const fs::path root = cvtk::testing::scratch_dir("check_no_images");
  fs::create_directories(root / "yolo" / "images");
  fs::create_directories(root / "yolo" / "labels");
  write_text(root / "yolo" / "classes.txt", "cat\n");
  const CheckReport y = check_dataset(root / "yolo", CheckOptions{});
  EXPECT_FALSE(y.clean());
  EXPECT_EQ(y.issues_by_kind.count("no_images"), 1u) << listing(y);
  EXPECT_EQ(listing(y).find("no problems found"), std::string::npos);

  fs::create_directories(root / "voc" / "Annotations");
  EXPECT_EQ(check_dataset(root / "voc", CheckOptions{}).issues_by_kind.count("no_images"), 1u);
  write_text(root / "coco.json", R"({"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}]})");
  EXPECT_EQ(check_dataset(root / "coco.json", CheckOptions{}).issues_by_kind.count("no_images"), 1u);
}

// The defect: an id in ImageSets/Main/<split>.txt without an annotation was only reported with
// --split <that split>. Without --split every split list is checked.
TEST(Check, EverySplitListIsCheckedWithoutSplit) {
  const fs::path voc = small_synth("check_split_lists");
  std::ofstream(voc / "ImageSets" / "Main" / "val.txt", std::ios::app) << "ghost_image\n";
  write_text(voc / "ImageSets" / "Main" / "extra.txt", "ghost_two\n");
  const CheckReport r = check_dataset(voc, CheckOptions{});
  EXPECT_TRUE(has_issue(r, "missing_file", "'ghost_image' has no annotation")) << listing(r);
  EXPECT_TRUE(has_issue(r, "missing_file", "'ghost_two' has no annotation")) << listing(r);
  for (const Issue& i : r.issues)
    if (i.message.find("ghost_image") != std::string::npos) {
      EXPECT_NE(i.file.find("val.txt"), std::string::npos);
      EXPECT_EQ(i.entry, "line 5");
    }
  EXPECT_EQ(r.images, 12u);
}

// The defect: --decode passed a truncated JPEG (libjpeg only warned). This is the library's own
// decoder; the cvtk command passes vision/image's (tests/apps/bad_input_cli_test.cpp).
TEST(Check, DecodeFindsTruncatedAndOversizedImages) {
  const fs::path voc = small_synth("check_decode");
  std::vector<fs::path> jpegs;
  for (const auto& e : fs::directory_iterator(voc / "JPEGImages")) jpegs.push_back(e.path());
  std::sort(jpegs.begin(), jpegs.end());
  const fs::path cut = jpegs[0];
  const auto full = fs::file_size(cut);
  fs::resize_file(cut, full / 2);
  CheckOptions o;
  o.decode = true;
  const CheckReport r = check_dataset(voc, o);
  EXPECT_TRUE(has_issue(r, "unreadable_image", "truncated JPEG")) << listing(r);
  bool named = false;
  for (const Issue& i : r.issues) named |= i.file == cut.string();
  EXPECT_TRUE(named) << listing(r);

  // The pixel limit, with and without decoding.
  set_max_image_pixels(96 * 80 - 1);
  const CheckReport small = check_dataset(voc, CheckOptions{});
  set_max_image_pixels(kDefaultMaxImagePixels);
  EXPECT_EQ(small.issues_by_kind.at("image_too_large"), 12u)
      << listing(small);  // the truncated one too: its header is whole
  EXPECT_TRUE(has_issue(small, "image_too_large", "96x80")) << listing(small);

  // A decoder that is given is the one used.
  o.decoder = [](const fs::path&) -> ImageSize { throw FormatError("x", "", "", "from the given decoder"); };
  EXPECT_EQ(check_dataset(voc, o).issues_by_kind.at("bad_value"), 12u);
}

TEST(Check, MalformedFilesAreProblemsNotAborts) {
  const fs::path root = cvtk::testing::scratch_dir("check_malformed");
  write_text(root / "nan.json", R"({"images": [{"id": 1, "file_name": "a.jpg", "width": NaN, "height": 4}]})");
  const CheckReport j = check_dataset(root / "nan.json", CheckOptions{});
  ASSERT_EQ(j.issues.size(), 1u) << listing(j);
  EXPECT_EQ(j.issues[0].kind, "parse");
  EXPECT_EQ(j.issues[0].entry, "images[0]");
  EXPECT_EQ(j.issues[0].field, "width");
  write_text(root / "array.json", "[1, 2]");
  EXPECT_EQ(check_dataset(root / "array.json", CheckOptions{}).issues.size(), 1u);
  // A YOLO dataset without classes.txt, and one with a duplicate class.
  fs::create_directories(root / "yolo" / "images");
  fs::create_directories(root / "yolo" / "labels");
  cv::imwrite((root / "yolo" / "images" / "a.png").string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0)));
  const CheckReport y = check_dataset(root / "yolo", CheckOptions{});
  EXPECT_TRUE(has_issue(y, "missing_file", "classes.txt")) << listing(y);
  write_text(root / "yolo" / "classes.txt", "cat\ndog\ncat\n");
  const CheckReport d = check_dataset(root / "yolo", CheckOptions{});
  EXPECT_TRUE(has_issue(d, "duplicate_id", "duplicate class name 'cat'")) << listing(d);
}

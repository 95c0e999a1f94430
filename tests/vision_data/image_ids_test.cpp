// Image ids of datasets without native ids (vision/data/image_ids.h): a function of the name alone,
// never of the position, and what the detection readers do with ids that do not refer to an image.
#include "vision/data/image_ids.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"
#include "vision/data/synth.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

using cvtk::testing::write_text;

// A VOC annotation with one 'cat' box.
std::string voc_xml(const std::string& file) {
  return "<annotation><filename>" + file +
         "</filename><size><width>100</width><height>80</height></size><object><name>cat</name><bndbox><xmin>1</xmin>"
         "<ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>";
}

// A small synthetic VOC dataset (8 train, 4 val images), made once per test binary run.
const fs::path& synth_dataset() {
  static const fs::path dir = [] {
    const fs::path d = cvtk::testing::process_scratch_dir("image_ids_synth") / "shapes";
    SynthOptions o;
    o.train_images = 8;
    o.val_images = 4;
    o.width = o.height = 96;
    o.min_size = 16;
    o.max_size = 48;
    o.seed = 11;
    write_synthetic_dataset(d, o);
    return d;
  }();
  return dir;
}

template <typename F>
FormatError format_error(F&& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a FormatError";
  return FormatError("", "", "", "");
}

}  // namespace

TEST(ImageIds, DigitsAreTheirNumberOtherNamesAHashAboveTwoToThe52) {
  EXPECT_EQ(image_id_for_name("000005"), 5);
  EXPECT_EQ(image_id_for_name("5"), 5);
  EXPECT_EQ(image_id_for_name("0"), 0);
  EXPECT_EQ(image_id_for_name("4503599627370495"), 4503599627370495);  // 2^52 - 1: still a number
  // 64-bit FNV-1a of "a" is 0xaf63dc4c8601ec8c (the published test vector); of "" the offset basis.
  EXPECT_EQ(image_id_for_name("a"), kHashedImageIdBase + int64_t(0xaf63dc4c8601ec8cull & ((1ull << 52) - 1)));
  EXPECT_EQ(image_id_for_name(""), kHashedImageIdBase + int64_t(0xcbf29ce484222325ull & ((1ull << 52) - 1)));
  for (const char* name : {"4503599627370496", "99999999999999999999999", "5 ", "-5", "+5", "1e3", "BloodImage_00003",
                           "dir/000005", "\xc3\xa9t\xc3\xa9"}) {
    const int64_t id = image_id_for_name(name);
    EXPECT_GE(id, kHashedImageIdBase) << name;
    EXPECT_LT(id, 2 * kHashedImageIdBase) << name;
    EXPECT_EQ(static_cast<int64_t>(static_cast<double>(id)), id) << name;  // exact as a JSON double
  }
  EXPECT_NE(image_id_for_name("a"), image_id_for_name("b"));
  EXPECT_EQ(loose_image_name("day1/cam2/0001.jpg"), "day1/cam2/0001");
  EXPECT_EQ(loose_image_name("x.png"), "x");
}

TEST(ImageIds, VocAndYoloIdsDependOnTheNameNotTheSplitOrOrder) {
  const fs::path root = synth_dataset();
  ReadOptions val_options;
  val_options.split = "val";
  const Dataset all = read_dataset(root);
  const Dataset val = read_dataset(root, val_options);
  ASSERT_EQ(all.images.size(), 12u);
  ASSERT_EQ(val.images.size(), 4u);
  EXPECT_TRUE(all.ids_from_names);
  std::map<std::string, int64_t> id_of;
  for (const auto& im : all.images) {
    EXPECT_EQ(im.id, image_id_for_name(im.name)) << im.name;
    id_of[im.name] = im.id;
  }
  // Before: ids were 1-based positions, so val's first image had id 1 here and another id in `all`.
  for (const auto& im : val.images) EXPECT_EQ(im.id, id_of.at(im.name)) << im.name;
  // The same images as YOLO and as COCO written by cvtk keep them.
  const fs::path out = cvtk::testing::scratch_dir("image_ids_formats");
  WriteOptions w;
  w.format = Format::kYolo;
  write_dataset(val, out / "yolo", w);
  const Dataset yolo = read_dataset(out / "yolo", val_options);  // images/val, labels/val
  ASSERT_EQ(yolo.images.size(), 4u);
  for (const auto& im : yolo.images) EXPECT_EQ(im.id, id_of.at(im.name)) << im.name;
  w.format = Format::kCoco;
  write_dataset(val, out / "val.json", w);
  const Dataset coco = read_dataset(out / "val.json");
  EXPECT_FALSE(coco.ids_from_names);
  ASSERT_EQ(coco.images.size(), 4u);
  for (const auto& im : coco.images) EXPECT_EQ(im.id, id_of.at(im.name)) << im.name;
}

TEST(ImageIds, TwoNamesWithOneIdAreAnErrorNamingBoth) {
  const fs::path root = cvtk::testing::scratch_dir("image_ids_dup");
  write_text(root / "Annotations" / "5.xml", voc_xml("5.jpg"));
  write_text(root / "Annotations" / "05.xml", voc_xml("05.jpg"));
  const FormatError e = format_error([&] { read_dataset(root); });
  EXPECT_EQ(e.field(), "name");
  const std::string m = e.what();
  EXPECT_NE(m.find("'05'"), std::string::npos) << m;
  EXPECT_NE(m.find("'5'"), std::string::npos) << m;
  EXPECT_NE(m.find("image id 5"), std::string::npos) << m;
  // Read leniently (data check): an issue, and the second image left out.
  std::vector<Issue> issues;
  ReadOptions lenient;
  lenient.issues = &issues;
  const Dataset ds = read_dataset(root, lenient);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, "duplicate_id");
  EXPECT_EQ(ds.images.size(), 1u);
}

TEST(ImageIds, ForeignIntegerIdsDoNotMatchAVocDatasetByPosition) {
  const fs::path root = synth_dataset();
  ReadOptions val_options;
  val_options.split = "val";
  const Dataset val = read_dataset(root, val_options);
  const fs::path dir = cvtk::testing::scratch_dir("image_ids_foreign");
  // image_id 1: the first image of some other file's numbering (BCCD's instances_val.json has 1..73).
  // Before, this matched whatever image came first in the split.
  write_text(dir / "ints.json", R"([{"image_id": 3, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5},
    {"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}])");
  const FormatError e = format_error([&] { read_coco_results(dir / "ints.json", val); });
  EXPECT_EQ(e.entry(), "[0]");
  EXPECT_EQ(e.field(), "image_id");
  const std::string m = e.what();
  EXPECT_NE(m.find("derived from their names"), std::string::npos) << m;
  EXPECT_NE(m.find(fs::path(val.images[0].file).filename().string()), std::string::npos) << m;  // the hint's example
  DetectionReadOptions skip;
  skip.skip_unknown = true;
  EXPECT_EQ(read_coco_results(dir / "ints.json", val, skip).skipped_unknown_image, 2u);
  // The ids cvtk writes, and file names, match.
  std::vector<Detection> dets = {{val.images[2].id, 0, 0.5, Box{0, 0, 5, 5}}};
  write_coco_results(dets, val, dir / "ours.json");
  const DetectionSet back = read_coco_results(dir / "ours.json", val);
  ASSERT_EQ(back.detections.size(), 1u);
  EXPECT_EQ(back.detections[0].image_id, val.images[2].id);
  const std::string file = fs::path(val.images[1].file).filename().string();
  write_text(dir / "names.json",
             "[{\"image_id\": \"" + file + "\", \"category_id\": 1, \"bbox\": [0, 0, 5, 5], \"score\": 0.5}]");
  EXPECT_EQ(read_coco_results(dir / "names.json", val).detections.at(0).image_id, val.images[1].id);
}

TEST(ImageIds, AStringIdMustMatchExactlyOneImage) {
  const fs::path dir = cvtk::testing::scratch_dir("image_ids_ambiguous");
  write_text(dir / "gt.json", R"({"images": [{"id": 1, "file_name": "a/x.jpg", "width": 50, "height": 40},
    {"id": 2, "file_name": "b/x.jpg", "width": 50, "height": 40}],
    "categories": [{"id": 1, "name": "cat"}], "annotations": []})");
  const Dataset gt = read_dataset(dir / "gt.json");
  write_text(dir / "d.json", R"([{"image_id": "b/x.jpg", "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5},
    {"image_id": "x.jpg", "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}])");
  // Before, "x.jpg" silently went to the first image.
  const FormatError e = format_error([&] { read_coco_results(dir / "d.json", gt); });
  EXPECT_EQ(e.entry(), "[1]");
  EXPECT_EQ(e.field(), "image_id");
  EXPECT_NE(std::string(e.what()).find("more than one"), std::string::npos) << e.what();
  DetectionReadOptions skip;
  skip.skip_unknown = true;
  const DetectionSet s = read_coco_results(dir / "d.json", gt, skip);
  ASSERT_EQ(s.detections.size(), 1u);
  EXPECT_EQ(s.detections[0].image_id, 2);
  EXPECT_EQ(s.skipped_unknown_image, 1u);
}

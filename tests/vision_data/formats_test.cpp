// Readers and writers: counts on the BCCD data, round trips between formats, and the conversion
// conventions of DESIGN.md §3 checked by hand.
#include <gtest/gtest.h>

#include <cmath>
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

std::map<std::string, size_t> count_by_class(const Dataset& ds) {
  std::map<std::string, size_t> n;
  for (const auto& im : ds.images)
    for (const auto& o : im.objects) ++n[ds.classes[o.label]];
  return n;
}

// Same images (by name), same classes, same boxes within tol, in the same order per image.
void expect_same(const Dataset& a, const Dataset& b, double tol) {
  ASSERT_EQ(a.classes, b.classes);
  ASSERT_EQ(a.images.size(), b.images.size());
  std::map<std::string, const ImageRecord*> by_name;
  for (const auto& im : b.images) by_name[im.name] = &im;
  for (const auto& im : a.images) {
    ASSERT_TRUE(by_name.count(im.name)) << im.name;
    const ImageRecord& other = *by_name[im.name];
    EXPECT_EQ(im.width, other.width);
    EXPECT_EQ(im.height, other.height);
    ASSERT_EQ(im.objects.size(), other.objects.size()) << im.name;
    for (size_t k = 0; k < im.objects.size(); ++k) {
      const auto& p = im.objects[k];
      const auto& q = other.objects[k];
      EXPECT_EQ(p.label, q.label) << im.name << " object " << k;
      EXPECT_NEAR(p.box.x1, q.box.x1, tol) << im.name;
      EXPECT_NEAR(p.box.y1, q.box.y1, tol) << im.name;
      EXPECT_NEAR(p.box.x2, q.box.x2, tol) << im.name;
      EXPECT_NEAR(p.box.y2, q.box.y2, tol) << im.name;
    }
  }
}

const char* kVocHeader = "<annotation><filename>a.jpg</filename><size><width>100</width><height>80</height></size>";

}  // namespace

TEST(VocReader, ConvertsOneBasedInclusiveIndicesToContinuousBoxes) {
  const fs::path root = cvtk::testing::scratch_dir("voc_convention");
  write_text(root / "Annotations" / "a.xml",
             std::string(kVocHeader) +
                 "<object><name>cat</name><difficult>1</difficult><bndbox><xmin>1</xmin><ymin>2</ymin>"
                 "<xmax>100</xmax><ymax>80</ymax></bndbox></object></annotation>");
  const Dataset ds = read_voc(root);
  ASSERT_EQ(ds.images.size(), 1u);
  const Object& o = ds.images[0].objects.at(0);
  EXPECT_EQ(o.box, (Box{0, 1, 100, 80}));
  EXPECT_TRUE(o.difficult);
  EXPECT_EQ(ds.classes, std::vector<std::string>{"cat"});
  // The VOC devkit's width (xmax - xmin + 1) is the continuous width.
  EXPECT_EQ(o.box.width(), 100 - 1 + 1);
}

TEST(VocReader, CollectsClassNamesInByteOrderWithoutAClassFile) {
  const fs::path root = cvtk::testing::scratch_dir("voc_classes");
  auto obj = [](const char* name) {
    return std::string("<object><name>") + name +
           "</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>";
  };
  write_text(root / "Annotations" / "b.xml", std::string(kVocHeader) + obj("zebra") + obj("Ant") + "</annotation>");
  write_text(root / "Annotations" / "a.xml", std::string(kVocHeader) + obj("bee") + "</annotation>");
  const Dataset ds = read_voc(root);
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"Ant", "bee", "zebra"}));
  ASSERT_EQ(ds.images.size(), 2u);
  EXPECT_EQ(ds.images[0].name, "a");  // files in name order
  EXPECT_EQ(ds.images[1].objects[0].label, 2);
}

TEST(CocoReader, MapsGappyCategoryIdsAndKeepsAreaAndCrowd) {
  const fs::path root = cvtk::testing::scratch_dir("coco_map");
  write_text(root / "gt.json", R"({"images": [{"id": 7, "file_name": "x/a.jpg", "width": 50, "height": 40}],
    "categories": [{"id": 9, "name": "dog"}, {"id": 2, "name": "cat"}],
    "annotations": [{"id": 1, "image_id": 7, "category_id": 9, "bbox": [1.5, 2, 10, 20], "area": 33.5, "iscrowd": 1},
                    {"id": 2, "image_id": 7, "category_id": 2, "bbox": [0, 0, 50, 40]}]})");
  const Dataset ds = read_coco(root / "gt.json");
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(ds.category_ids, (std::vector<int64_t>{2, 9}));
  const auto& objs = ds.images.at(0).objects;
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_EQ(objs[0].label, 1);
  EXPECT_EQ(objs[0].box, (Box{1.5, 2, 11.5, 22}));
  EXPECT_DOUBLE_EQ(objs[0].effective_area(), 33.5);
  EXPECT_TRUE(objs[0].crowd);
  EXPECT_DOUBLE_EQ(objs[1].effective_area(), 2000);
  EXPECT_EQ(ds.images[0].id, 7);
  EXPECT_EQ(ds.category_id(1), 9);
}

TEST(Bccd, CountsMatchItsReadme) {
  CVTK_REQUIRE_SHARED(shared);
  const fs::path root = shared / "data" / "bccd";
  const Dataset all = read_voc(root);
  EXPECT_EQ(all.images.size(), 364u);
  EXPECT_EQ(all.classes, (std::vector<std::string>{"RBC", "WBC", "Platelets"}));
  auto n = count_by_class(all);
  EXPECT_EQ(n["RBC"], 4153u);
  EXPECT_EQ(n["WBC"], 372u);
  EXPECT_EQ(n["Platelets"], 361u);
  ReadOptions val_options;
  val_options.split = "val";
  const Dataset val = read_voc(root, val_options);
  EXPECT_EQ(val.images.size(), 73u);
  EXPECT_EQ(val.object_count(), 1004u);
  ReadOptions train_options;
  train_options.split = "train";
  EXPECT_EQ(read_voc(root, train_options).object_count(), 3882u);
}

TEST(Bccd, VocValConvertedToCocoEqualsItsInstancesFile) {
  CVTK_REQUIRE_SHARED(shared);
  const fs::path root = shared / "data" / "bccd";
  ReadOptions o;
  o.split = "val";
  const Dataset voc = read_voc(root, o);
  const fs::path out = cvtk::testing::scratch_dir("bccd_to_coco") / "val.json";
  WriteOptions w;
  w.format = Format::kCoco;
  write_dataset(voc, out, w);
  const Dataset converted = read_coco(out);
  const Dataset reference = read_coco(root / "instances_val.json");
  expect_same(converted, reference, 0.0);
  // cvtk writes the VOC dataset's name-derived ids (vision/data/image_ids.h); the reference file
  // numbers its images 1..73, ids of its own.
  for (size_t i = 0; i < voc.images.size(); ++i) EXPECT_EQ(converted.images[i].id, voc.images[i].id);
  // Its images are found next to it.
  EXPECT_TRUE(fs::exists(reference.image_root / reference.images[0].file));
}

namespace {

void round_trip(const Dataset& original, const std::string& tag) {
  const fs::path dir = cvtk::testing::scratch_dir("round_trip_" + tag);
  WriteOptions w;
  w.format = Format::kCoco;
  write_dataset(original, dir / "coco", w);
  const Dataset coco = read_dataset(dir / "coco");
  expect_same(original, coco, 1e-9);
  w.format = Format::kYolo;
  write_dataset(coco, dir / "yolo", w);
  const Dataset yolo = read_dataset(dir / "yolo");
  // YOLO stores 6 decimals of the normalised values.
  expect_same(original, yolo, 1e-6 * 2 * std::max(original.images[0].width, original.images[0].height));
  w.format = Format::kVoc;
  write_dataset(yolo, dir / "voc", w);
  const Dataset voc = read_dataset(dir / "voc");
  expect_same(original, voc, 1e-3);
  EXPECT_TRUE(fs::exists(voc.image_root / voc.images[0].file));
}

}  // namespace

TEST(RoundTrip, SyntheticVocCocoYoloVoc) {
  const fs::path dir = cvtk::testing::scratch_dir("synth_rt");
  SynthOptions s;
  s.train_images = 12;
  s.val_images = 4;
  write_synthetic_dataset(dir / "synth", s);
  ReadOptions o;
  o.split = "train";
  round_trip(read_voc(dir / "synth", o), "synth");
}

TEST(RoundTrip, BccdVocCocoYoloVoc) {
  CVTK_REQUIRE_SHARED(shared);
  ReadOptions o;
  o.split = "val";
  round_trip(read_voc(shared / "data" / "bccd", o), "bccd");
}

TEST(Detections, CocoResultsRoundTripAndMatchByIdOrFileName) {
  const fs::path dir = cvtk::testing::scratch_dir("dets_rt");
  write_text(dir / "gt.json", R"({"images": [{"id": 3, "file_name": "a.jpg", "width": 50, "height": 40}],
    "categories": [{"id": 5, "name": "dog"}], "annotations": []})");
  const Dataset gt = read_coco(dir / "gt.json");
  std::vector<Detection> dets = {{3, 0, 0.25, Box{1, 2, 3.5, 40}}, {3, 0, 1.0 / 3, Box{-2, 0, 60, 10}}};
  write_coco_results(dets, gt, dir / "dets.json");
  const DetectionSet back = read_coco_results(dir / "dets.json", gt);
  ASSERT_EQ(back.detections.size(), 2u);
  EXPECT_EQ(back.detections[1].box, dets[1].box);
  EXPECT_EQ(back.detections[1].score, dets[1].score);  // exact: shortest round-trip text
  EXPECT_EQ(back.outside_image, 1u);
  write_text(dir / "by_name.json", R"([{"image_id": "a.jpg", "category_id": 5, "bbox": [0, 0, 1, 1], "score": 0.5}])");
  EXPECT_EQ(read_coco_results(dir / "by_name.json", gt).detections.at(0).image_id, 3);
}

TEST(Detections, VocFilesRoundTripInVocIndices) {
  const fs::path dir = cvtk::testing::scratch_dir("voc_dets");
  write_text(dir / "ds" / "Annotations" / "a.xml",
             std::string(kVocHeader) +
                 "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></"
                 "object></annotation>");
  const Dataset gt = read_voc(dir / "ds");
  std::vector<Detection> dets = {{gt.images[0].id, 0, 0.9, Box{0, 0, 5, 5}}};
  write_voc_detections(dets, gt, dir / "dets", "test");
  std::ifstream in(dir / "dets" / "comp4_det_test_cat.txt");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "a 0.9 1 1 5 5");
  const DetectionSet back = read_voc_detections(dir / "dets", gt, "test");
  ASSERT_EQ(back.detections.size(), 1u);
  EXPECT_EQ(back.detections[0].box, dets[0].box);
}

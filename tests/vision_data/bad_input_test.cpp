// Every kind of bad input gives one FormatError/IoError naming the file, the entry and the field;
// lenient reading (data check) lists them all instead.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/common.h"
#include "vision/data/check.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string voc_xml(const std::string& objects, const std::string& size = "<size><width>100</width><height>80</height></size>") {
  return "<annotation><filename>a.jpg</filename>" + size + objects + "</annotation>";
}

std::string voc_object(const std::string& name, const std::string& xmin, const std::string& ymin, const std::string& xmax,
                       const std::string& ymax) {
  return "<object><name>" + name + "</name><bndbox><xmin>" + xmin + "</xmin><ymin>" + ymin + "</ymin><xmax>" + xmax +
         "</xmax><ymax>" + ymax + "</ymax></bndbox></object>";
}

// Runs fn, expects a FormatError, and checks the message names file, entry and field.
template <typename Fn>
void expect_format_error(Fn fn, const std::string& file_part, const std::string& entry, const std::string& field) {
  try {
    fn();
    ADD_FAILURE() << "no error for " << file_part << " " << entry << " " << field;
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file_part), std::string::npos) << what;
    EXPECT_EQ(e.entry(), entry) << what;
    EXPECT_EQ(e.field(), field) << what;
  }
}

struct VocCase {
  const char* name;
  std::string xml;
  std::string entry, field;
};

}  // namespace

TEST(BadVoc, EachProblemNamesFileEntryAndField) {
  const std::vector<VocCase> cases = {
      {"malformed", "<annotation><size>", "byte 17", ""},
      {"no_size", "<annotation><object/></annotation>", "", "size"},
      {"bad_width", voc_xml("", "<size><width>wide</width><height>80</height></size>"), "", "size/width"},
      {"missing_xmax", "<annotation><size><width>100</width><height>80</height></size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><ymax>5</ymax></bndbox></object></annotation>", "object 1", "bndbox/xmax"},
      {"xmax_lt_xmin", voc_xml(voc_object("cat", "1", "1", "5", "5") + voc_object("cat", "10", "1", "5", "5")), "object 2", "bndbox/xmax"},
      {"outside", voc_xml(voc_object("cat", "1", "1", "101", "5")), "object 1", "bndbox"},
      {"no_name", voc_xml("<object><bndbox/></object>"), "object 1", "name"},
      {"bad_difficult", voc_xml("<object><name>cat</name><difficult>yes</difficult></object>"), "object 1", "difficult"},
      {"not_utf8", voc_xml(voc_object("c\xff\xfe", "1", "1", "5", "5")), "object 1", "name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path root = cvtk::testing::scratch_dir(std::string("bad_voc_") + c.name);
    write_text(root / "Annotations" / "a.xml", c.xml);
    expect_format_error([&] { read_voc(root); }, "a.xml", c.entry, c.field);
  }
}

TEST(BadVoc, EmptyFileUnknownClassAndMissingSplit) {
  const fs::path root = cvtk::testing::scratch_dir("bad_voc_more");
  write_text(root / "Annotations" / "a.xml", "");
  expect_format_error([&] { read_voc(root); }, "a.xml", "", "");
  write_text(root / "Annotations" / "a.xml", voc_xml(voc_object("unicorn", "1", "1", "5", "5")));
  write_text(root / "classes.txt", "cat\ndog\n");
  expect_format_error([&] { read_voc(root); }, "a.xml", "object 1", "name");
  ReadOptions o;
  o.split = "train";
  EXPECT_THROW(read_voc(root, o), IoError);
  EXPECT_THROW(read_voc(root / "nope"), IoError);
  write_text(root / "classes.txt", "cat\ncat\n");
  expect_format_error([&] { read_voc(root); }, "classes.txt", "line 2", "");
}

TEST(BadVoc, ClipOptionClipsAndCounts) {
  const fs::path root = cvtk::testing::scratch_dir("voc_clip");
  write_text(root / "Annotations" / "a.xml", voc_xml(voc_object("cat", "-3", "1", "120", "5")));
  ReadOptions o;
  o.clip_boxes = true;
  const Dataset ds = read_voc(root, o);
  EXPECT_EQ(ds.clipped_boxes, 1u);
  EXPECT_EQ(ds.images[0].objects[0].box, (Box{0, 0, 100, 5}));
}

struct JsonCase {
  const char* name;
  std::string json;
  std::string entry, field;
};

TEST(BadCoco, EachProblemNamesFileEntryAndField) {
  const std::string images = R"("images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}])";
  const std::string cats = R"("categories": [{"id": 1, "name": "cat"}])";
  auto with_ann = [&](const std::string& ann) { return "{" + images + ", " + cats + R"(, "annotations": [)" + ann + "]}"; };
  const std::string good = R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]})";
  const std::vector<JsonCase> cases = {
      {"malformed", "{\"images\": [", "", ""},
      {"not_object", "[1, 2]", "", ""},
      {"no_images", "{" + cats + "}", "", "images"},
      {"image_missing_width", "{" + cats + R"(, "images": [{"id": 1, "file_name": "a.jpg", "height": 3}]})", "images[0]", "width"},
      {"image_id_string", "{" + cats + R"(, "images": [{"id": "x", "file_name": "a.jpg", "width": 3, "height": 3}]})", "images[0]", "id"},
      {"dup_image", "{" + cats + R"(, "images": [{"id": 1, "file_name": "a.jpg", "width": 3, "height": 3}, {"id": 1, "file_name": "b.jpg", "width": 3, "height": 3}]})", "images[1]", "id"},
      {"bbox_short", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5]})"), "annotations[0]", "bbox"},
      {"bbox_negative", with_ann(good + R"(, {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5]})"), "annotations[1]", "bbox"},
      {"bbox_outside", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [90, 1, 20, 5]})"), "annotations[0]", "bbox"},
      {"unknown_category", with_ann(R"({"id": 1, "image_id": 1, "category_id": 4, "bbox": [1, 1, 5, 5]})"), "annotations[0]", "category_id"},
      {"unknown_image", with_ann(R"({"id": 1, "image_id": 9, "category_id": 1, "bbox": [1, 1, 5, 5]})"), "annotations[0]", "image_id"},
      {"dup_ann", with_ann(good + ", " + good), "annotations[1]", "id"},
      {"crowd_2", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "iscrowd": 2})"), "annotations[0]", "iscrowd"},
      {"area_string", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": "big"})"), "annotations[0]", "area"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path file = cvtk::testing::scratch_dir(std::string("bad_coco_") + c.name) / "gt.json";
    write_text(file, c.json);
    expect_format_error([&] { read_coco(file); }, "gt.json", c.entry, c.field);
  }
  const fs::path empty = cvtk::testing::scratch_dir("bad_coco_empty") / "gt.json";
  write_text(empty, "  \n");
  try {
    read_coco(empty);
    ADD_FAILURE();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

TEST(BadResults, EachProblemNamesFileEntryAndField) {
  const fs::path dir = cvtk::testing::scratch_dir("bad_results");
  write_text(dir / "gt.json", R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
    "categories": [{"id": 1, "name": "cat"}], "annotations": []})");
  const Dataset gt = read_coco(dir / "gt.json");
  const std::string good = R"({"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5})";
  const std::vector<JsonCase> cases = {
      {"nan_score", "[" + good + R"(, {"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": NaN}])", "", ""},
      {"string_score", "[" + good + R"(, {"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": "high"}])", "[1]", "score"},
      {"negative_w", R"([{"image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5], "score": 0.5}])", "[0]", "bbox"},
      {"unknown_image", R"([{"image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}])", "[0]", "image_id"},
      {"unknown_cat", R"([{"image_id": 1, "category_id": 3, "bbox": [1, 1, 5, 5], "score": 0.5}])", "[0]", "category_id"},
      {"missing_score", R"([{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}])", "[0]", "score"},
      {"object", R"({"image_id": 1})", "", ""},
      {"empty", "", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    write_text(dir / (std::string(c.name) + ".json"), c.json);
    expect_format_error([&] { read_coco_results(dir / (std::string(c.name) + ".json"), gt); }, c.name, c.entry, c.field);
  }
  // skip_unknown counts instead of failing.
  write_text(dir / "mixed.json", "[" + good + R"(, {"image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5},
      {"image_id": 1, "category_id": 7, "bbox": [1, 1, 5, 5], "score": 0.5}])");
  DetectionReadOptions skip;
  skip.skip_unknown = true;
  const DetectionSet set = read_coco_results(dir / "mixed.json", gt, skip);
  EXPECT_EQ(set.detections.size(), 1u);
  EXPECT_EQ(set.skipped_unknown_image, 1u);
  EXPECT_EQ(set.skipped_unknown_class, 1u);
  EXPECT_THROW(read_coco_results(dir / "absent.json", gt), IoError);
}

TEST(Check, ListsEveryProblemAndCountsThem) {
  const fs::path root = cvtk::testing::scratch_dir("check_voc");
  write_text(root / "classes.txt", "cat\ndog\n");
  write_text(root / "Annotations" / "a.xml", voc_xml(voc_object("cat", "1", "1", "120", "5") + voc_object("bird", "1", "1", "5", "5")));
  write_text(root / "Annotations" / "b.xml", "<annotation>");
  write_text(root / "Annotations" / "c.xml", voc_xml(""));
  write_text(root / "JPEGImages" / "c.jpg", "not a jpeg");
  CheckOptions o;
  const CheckReport r = check_dataset(root, o);
  EXPECT_FALSE(r.clean());
  EXPECT_EQ(r.issues_by_kind.at("box_outside"), 1u);
  EXPECT_EQ(r.issues_by_kind.at("unknown_class"), 1u);
  EXPECT_EQ(r.issues_by_kind.at("parse"), 1u);
  EXPECT_EQ(r.issues_by_kind.at("missing_image"), 1u);     // a.jpg
  EXPECT_EQ(r.issues_by_kind.at("unreadable_image"), 1u);  // c.jpg
  EXPECT_EQ(r.images, 2u);
  EXPECT_EQ(r.empty_images, 1u);
}

TEST(Check, BccdIsClean) {
  CVTK_REQUIRE_SHARED(shared);
  CheckOptions o;
  o.decode = true;
  const CheckReport r = check_dataset(shared / "data" / "bccd", o);
  EXPECT_TRUE(r.clean()) << (r.issues.empty() ? "" : r.issues[0].message);
  EXPECT_EQ(r.images, 364u);
  EXPECT_EQ(r.objects, 4886u);
}

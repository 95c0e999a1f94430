// Every kind of bad input gives one FormatError/IoError naming the file, the entry and the field;
// lenient reading (data check) lists them all instead.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "tests/common.h"
#include "vision/data/check.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

using cvtk::testing::write_text;

std::string voc_xml(const std::string& objects,
                    const std::string& size = "<size><width>100</width><height>80</height></size>") {
  return "<annotation><filename>a.jpg</filename>" + size + objects + "</annotation>";
}

std::string voc_object(const std::string& name, const std::string& xmin, const std::string& ymin,
                       const std::string& xmax, const std::string& ymax) {
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
      {"missing_xmax",
       "<annotation><size><width>100</width><height>80</height></size><object><name>cat</name><bndbox><xmin>1</"
       "xmin><ymin>1</ymin><ymax>5</ymax></bndbox></object></annotation>",
       "object 1", "bndbox/xmax"},
      {"xmax_lt_xmin", voc_xml(voc_object("cat", "1", "1", "5", "5") + voc_object("cat", "10", "1", "5", "5")),
       "object 2", "bndbox/xmax"},
      {"outside", voc_xml(voc_object("cat", "1", "1", "101", "5")), "object 1", "bndbox"},
      {"no_name", voc_xml("<object><bndbox/></object>"), "object 1", "name"},
      {"bad_difficult", voc_xml("<object><name>cat</name><difficult>yes</difficult></object>"), "object 1",
       "difficult"},
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
  auto with_ann = [&](const std::string& ann) {
    return "{" + images + ", " + cats + R"(, "annotations": [)" + ann + "]}";
  };
  const std::string good = R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]})";
  const std::vector<JsonCase> cases = {
      {"malformed", "{\"images\": [", "images[0]", ""},
      {"not_object", "[1, 2]", "", ""},
      {"no_images", "{" + cats + "}", "", "images"},
      {"image_missing_width", "{" + cats + R"(, "images": [{"id": 1, "file_name": "a.jpg", "height": 3}]})",
       "images[0]", "width"},
      {"image_id_string", "{" + cats + R"(, "images": [{"id": "x", "file_name": "a.jpg", "width": 3, "height": 3}]})",
       "images[0]", "id"},
      {"dup_image",
       "{" + cats +
           R"(, "images": [{"id": 1, "file_name": "a.jpg", "width": 3, "height": 3}, {"id": 1, "file_name": "b.jpg", "width": 3, "height": 3}]})",
       "images[1]", "id"},
      {"bbox_short", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5]})"), "annotations[0]",
       "bbox"},
      {"bbox_negative", with_ann(good + R"(, {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5]})"),
       "annotations[1]", "bbox"},
      {"bbox_outside", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [90, 1, 20, 5]})"),
       "annotations[0]", "bbox"},
      {"unknown_category", with_ann(R"({"id": 1, "image_id": 1, "category_id": 4, "bbox": [1, 1, 5, 5]})"),
       "annotations[0]", "category_id"},
      {"unknown_image", with_ann(R"({"id": 1, "image_id": 9, "category_id": 1, "bbox": [1, 1, 5, 5]})"),
       "annotations[0]", "image_id"},
      {"dup_ann", with_ann(good + ", " + good), "annotations[1]", "id"},
      {"crowd_2", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "iscrowd": 2})"),
       "annotations[0]", "iscrowd"},
      {"area_string", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": "big"})"),
       "annotations[0]", "area"},
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
      {"nan_score", "[" + good + R"(, {"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": NaN}])", "[1]",
       "score"},
      {"string_score", "[" + good + R"(, {"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": "high"}])",
       "[1]", "score"},
      {"negative_w", R"([{"image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5], "score": 0.5}])", "[0]", "bbox"},
      {"unknown_image", R"([{"image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}])", "[0]",
       "image_id"},
      {"unknown_cat", R"([{"image_id": 1, "category_id": 3, "bbox": [1, 1, 5, 5], "score": 0.5}])", "[0]",
       "category_id"},
      {"missing_score", R"([{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}])", "[0]", "score"},
      {"object", R"({"image_id": 1})", "", ""},
      {"empty", "", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    write_text(dir / (std::string(c.name) + ".json"), c.json);
    expect_format_error([&] { read_coco_results(dir / (std::string(c.name) + ".json"), gt); }, c.name, c.entry,
                        c.field);
  }
  // skip_unknown counts instead of failing.
  write_text(dir / "mixed.json",
             "[" + good + R"(, {"image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5},
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
  write_text(root / "Annotations" / "a.xml",
             voc_xml(voc_object("cat", "1", "1", "120", "5") + voc_object("bird", "1", "1", "5", "5")));
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

// The audit corpus: every kind of broken input a user meets, each one FormatError (or IoError for
// what cannot be opened) on one line naming the file, the entry and the field.
namespace {

void expect_one_line(const std::exception& e) {
  const std::string what = e.what();
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_LT(what.size(), 400u) << what;
}

template <typename Fn>
void expect_format_error_line(Fn fn, const std::string& file_part, const std::string& entry, const std::string& field,
                              const std::string& message_part = "") {
  try {
    fn();
    ADD_FAILURE() << "no error for " << file_part << " " << entry << " " << field;
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file_part), std::string::npos) << what;
    EXPECT_EQ(e.entry(), entry) << what;
    EXPECT_EQ(e.field(), field) << what;
    EXPECT_NE(what.find(message_part), std::string::npos) << what;
    expect_one_line(e);
  }
}

}  // namespace

TEST(BadVoc, AuditCorpus) {
  const std::string size = "<size><width>100</width><height>80</height></size>";
  const std::vector<VocCase> cases = {
      {"width_0", voc_xml("", "<size><width>0</width><height>80</height></size>"), "", "size/width"},
      {"height_huge", voc_xml("", "<size><width>10</width><height>1e12</height></size>"), "", "size/height"},
      {"width_fraction", voc_xml("", "<size><width>10.5</width><height>8</height></size>"), "", "size/width"},
      {"no_height", voc_xml("", "<size><width>10</width></size>"), "", "size/height"},
      {"negative", voc_xml(voc_object("cat", "-5", "1", "10", "10")), "object 1", "bndbox"},
      {"nan", voc_xml(voc_object("cat", "nan", "1", "10", "10")), "object 1", "bndbox/xmin"},
      {"inf", voc_xml(voc_object("cat", "1", "inf", "10", "10")), "object 1", "bndbox/ymin"},
      {"huge", voc_xml(voc_object("cat", "1", "1", "1e400", "10")), "object 1", "bndbox/xmax"},
      {"finite_huge", voc_xml(voc_object("cat", "1", "1", "1e300", "10")), "object 1", "bndbox"},
      {"unit", voc_xml(voc_object("cat", "1", "1", "10px", "10")), "object 1", "bndbox/xmax"},
      {"ymax_lt_ymin", voc_xml(voc_object("cat", "1", "9", "10", "3")), "object 1", "bndbox/ymax"},
      {"empty_name", voc_xml(voc_object("", "1", "1", "10", "10")), "object 1", "name"},
      {"blank_name", voc_xml(voc_object("  \n ", "1", "1", "10", "10")), "object 1", "name"},
      {"no_bndbox", voc_xml("<object><name>cat</name></object>"), "object 1", "bndbox"},
      {"no_ymin",
       voc_xml("<object><name>cat</name><bndbox><xmin>1</xmin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"),
       "object 1", "bndbox/ymin"},
      {"wrong_root", "<foo>" + size + "</foo>", "", "annotation"},
      {"not_xml", "\x89PNG\r\n\x1a\n binary", "byte 15", ""},
      {"unclosed_tag", "<annotation>" + size + "<object><name>cat</name>", "byte 85", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path root = cvtk::testing::scratch_dir(std::string("audit_voc_") + c.name);
    write_text(root / "Annotations" / "a.xml", c.xml);
    expect_format_error_line([&] { read_voc(root); }, "a.xml", c.entry, c.field);
    // data check lists the same problem instead of stopping.
    const CheckReport r = check_dataset(root, CheckOptions{});
    EXPECT_FALSE(r.clean());
  }
}

TEST(BadVoc, AnnotationThatCannotBeReadIsAnIssueWhenChecking) {
  const fs::path root = cvtk::testing::scratch_dir("audit_voc_unreadable");
  fs::create_directories(root / "Annotations" / "dir.xml");  // a directory where a file should be
  EXPECT_THROW(read_voc(root), IoError);
  const CheckReport r = check_dataset(root, CheckOptions{});
  EXPECT_EQ(r.issues_by_kind.count("unreadable_file"), 1u);
}

TEST(BadCoco, AuditCorpus) {
  const std::string images = R"("images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}])";
  const std::string cats = R"("categories": [{"id": 1, "name": "cat"}])";
  auto with_ann = [&](const std::string& ann) {
    return "{" + images + ", " + cats + R"(, "annotations": [)" + ann + "]}";
  };
  auto with_images = [&](const std::string& im) { return "{" + cats + R"(, "images": [)" + im + "]}"; };
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  const std::vector<JsonCase> cases = {
      {"images_not_array", "{" + cats + R"(, "images": {"id": 1}})", "", "images"},
      {"images_number", "{" + cats + R"(, "images": 5})", "", "images"},
      {"no_categories", "{" + images + "}", "", "categories"},
      {"annotations_object", "{" + images + ", " + cats + R"(, "annotations": {}})", "", "annotations"},
      {"image_not_object", with_images("5"), "images[0]", ""},
      {"width_string", with_images(R"({"id": 1, "file_name": "a.jpg", "width": "100", "height": 3})"), "images[0]",
       "width"},
      {"width_huge", with_images(R"({"id": 1, "file_name": "a.jpg", "width": 1e10, "height": 3})"), "images[0]",
       "width"},
      {"id_fraction", with_images(R"({"id": 1.5, "file_name": "a.jpg", "width": 3, "height": 3})"), "images[0]", "id"},
      {"id_too_big", with_images(R"({"id": 18446744073709551615, "file_name": "a.jpg", "width": 3, "height": 3})"),
       "images[0]", "id"},
      {"empty_file_name", with_images(R"({"id": 1, "file_name": "", "width": 3, "height": 3})"), "images[0]",
       "file_name"},
      {"bbox_string", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, "2", 5, 5]})"),
       "annotations[0]", "bbox"},
      {"bbox_object", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": {"x": 1}})"), "annotations[0]",
       "bbox"},
      {"image_id_string", with_ann(R"({"id": 1, "image_id": "1", "category_id": 1, "bbox": [1, 1, 5, 5]})"),
       "annotations[0]", "image_id"},
      {"no_bbox", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1})"), "annotations[0]", "bbox"},
      {"ann_not_object", with_ann("[1, 2]"), "annotations[0]", ""},
      {"big_number", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 1e400, 5]})"),
       "annotations[0]", "bbox[2]"},
      {"nan", with_ann(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": NaN})"),
       "annotations[0]", "area"},
      {"deep", "{" + cats + R"(, "images": )" + deep + "}", "images[0]", "[0][0][0][0][0][0]...(1014 more)...[0][0]"},
      {"trailing_garbage", "{" + images + ", " + cats + "} extra", "", ""},
      {"dup_category", R"({"images": [], "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]})",
       "categories[1]", "id"},
      {"dup_category_name", R"({"images": [], "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}]})",
       "categories[1]", "name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path file = cvtk::testing::scratch_dir(std::string("audit_coco_") + c.name) / "gt.json";
    write_text(file, c.json);
    expect_format_error_line([&] { read_coco(file); }, "gt.json", c.entry, c.field);
    EXPECT_FALSE(check_dataset(file, CheckOptions{}).clean());
  }
}

TEST(BadCoco, FilesThatCannotBeOpened) {
  const fs::path dir = cvtk::testing::scratch_dir("audit_coco_io");
  fs::create_directories(dir / "dir.json");
  try {
    read_coco(dir / "dir.json");
    ADD_FAILURE();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("dir.json: is a directory"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_coco(dir / "absent.json"), IoError);
  write_text(dir / "locked.json", "{}");
  fs::permissions(dir / "locked.json", fs::perms::none);
  if (::geteuid() != 0) {  // root reads whatever the permissions say
    try {
      read_coco(dir / "locked.json");
      ADD_FAILURE();
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find("locked.json: cannot open"), std::string::npos) << e.what();
    }
  }
  fs::permissions(dir / "locked.json", fs::perms::owner_all);
}

namespace {

// A YOLO dataset of one 20x10 image a.png with the given label text and classes.
fs::path yolo_case(const std::string& name, const std::string& label, const std::string& classes = "cat\ndog\n") {
  const fs::path root = cvtk::testing::scratch_dir("audit_yolo_" + name);
  fs::create_directories(root / "images");
  fs::create_directories(root / "labels");
  cv::imwrite((root / "images" / "a.png").string(), cv::Mat(10, 20, CV_8UC3, cv::Scalar::all(9)));
  write_text(root / "labels" / "a.txt", label);
  if (!classes.empty()) write_text(root / "classes.txt", classes);
  return root;
}

}  // namespace

TEST(BadYolo, AuditCorpus) {
  struct YoloCase {
    const char* name;
    std::string label;
    std::string entry, field;
  };
  const std::vector<YoloCase> cases = {
      {"four_fields", "0 0.5 0.5 0.2\n", "line 1", ""},
      {"six_fields", "0 0.5 0.5 0.2 0.2 0.9\n", "line 1", ""},
      {"class_out_of_range", "0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n", "line 2", "class"},
      {"class_negative", "-1 0.5 0.5 0.2 0.2\n", "line 1", "class"},
      {"class_fraction", "1.5 0.5 0.5 0.2 0.2\n", "line 1", "class"},
      {"class_word", "cat 0.5 0.5 0.2 0.2\n", "line 1", "class"},
      {"class_overflow", "99999999999999999999 0.5 0.5 0.2 0.2\n", "line 1", "class"},
      {"outside", "0 1.5 0.5 0.2 0.2\n", "line 1", ""},
      {"negative_w", "0 0.5 0.5 -0.2 0.2\n", "line 1", "w"},
      {"nan", "0 0.5 nan 0.2 0.2\n", "line 1", "cy"},
      {"word", "0 0.5 0.5 wide 0.2\n", "line 1", "w"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path root = yolo_case(c.name, c.label);
    expect_format_error_line([&] { read_yolo(root); }, "a.txt", c.entry, c.field);
    EXPECT_FALSE(check_dataset(root, CheckOptions{}).clean());
  }
}

TEST(BadYolo, FilesAroundTheLabels) {
  // No classes.txt: cannot be read at all, but data check lists it.
  const fs::path none = yolo_case("no_classes", "0 0.5 0.5 0.2 0.2\n", "");
  EXPECT_THROW(read_yolo(none), IoError);
  EXPECT_EQ(check_dataset(none, CheckOptions{}).issues_by_kind.at("missing_file"), 1u);
  // Empty and duplicate class lists.
  expect_format_error_line([&] { read_yolo(yolo_case("empty_classes", "", "\n  \n")); }, "classes.txt", "", "",
                           "no class names");
  expect_format_error_line([&] { read_yolo(yolo_case("dup_classes", "", "cat\ndog\ncat\n")); }, "classes.txt", "line 3",
                           "", "duplicate class name 'cat' (line 1");
  // A label file without an image: its boxes would be dropped without a word.
  const fs::path orphan = yolo_case("orphan", "0 0.5 0.5 0.2 0.2\n");
  write_text(orphan / "labels" / "b.txt", "1 0.5 0.5 0.2 0.2\n");
  expect_format_error_line([&] { read_yolo(orphan); }, "b.txt", "", "", "label file without an image");
  // An image without a label file is a negative, not a problem.
  const fs::path negative = yolo_case("negative", "0 0.5 0.5 0.2 0.2\n");
  cv::imwrite((negative / "images" / "n.png").string(), cv::Mat(10, 20, CV_8UC3, cv::Scalar::all(9)));
  const Dataset ds = read_yolo(negative);
  ASSERT_EQ(ds.images.size(), 2u);
  EXPECT_TRUE(check_dataset(negative, CheckOptions{}).clean());
}

TEST(BadYolo, ImagesThatAreNotImages) {
  struct ImageCase {
    const char* name;
    std::string bytes;
    std::string message_part;
  };
  std::vector<unsigned char> jpg;
  cv::imencode(".jpg", cv::Mat(48, 64, CV_8UC3, cv::Scalar::all(90)), jpg);
  std::string huge(jpg.begin(), jpg.end());
  for (size_t i = 2; i + 8 < huge.size(); ++i)
    if (static_cast<unsigned char>(huge[i]) == 0xFF && static_cast<unsigned char>(huge[i + 1]) == 0xC0) {
      huge[i + 5] = huge[i + 7] = static_cast<char>(0xFD);  // 65000 = 0xFDE8
      huge[i + 6] = huge[i + 8] = static_cast<char>(0xE8);
      break;
    }
  const std::vector<ImageCase> cases = {
      {"zero_bytes", "", "empty image file"},
      {"text", "this is not an image", "not an image"},
      {"cut_header", std::string(jpg.begin(), jpg.begin() + 12), "not an image"},
      {"huge", huge, "65000x65000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path root = yolo_case(std::string("image_") + c.name, "0 0.5 0.5 0.2 0.2\n");
    fs::remove(root / "images" / "a.png");
    write_text(root / "images" / "a.jpg", c.bytes);
    expect_format_error_line([&] { read_yolo(root); }, "a.jpg", "", "", c.message_part);
    EXPECT_FALSE(check_dataset(root, CheckOptions{}).clean());
  }
  // A PNG named .jpg is read by what it holds.
  const fs::path renamed = yolo_case("image_renamed", "0 0.5 0.5 0.2 0.2\n");
  fs::rename(renamed / "images" / "a.png", renamed / "images" / "a.jpg");
  EXPECT_EQ(read_yolo(renamed).images.at(0).width, 20);
}

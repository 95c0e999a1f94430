// Malformed JSON is reported with its byte offset, line and column, and the entry and field it is in,
// by the scan that runs once simdjson has failed (vision/data/json_syntax.h); the readers use it.
#include "vision/data/json_syntax.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

using cvtk::testing::write_text;

struct Case {
  const char* name;
  std::string text;
  size_t offset, line, column;
  std::string entry, field, problem_part;
};

}  // namespace

TEST(JsonSyntax, FindsWhereAndWhat) {
  const std::string head = "{\"images\": [],\n \"annotations\": [{\"id\": 1}, {\"id\": 2, ";
  const size_t h = head.size(), col = h - head.find('\n');  // the column of the byte after head
  const std::vector<Case> cases = {
      {"nan", head + "\"score\": NaN}]}", h + 9, 2, col + 9, "annotations[1]", "score", "JSON has no NaN"},
      {"infinity", "[1, -Infinity]", 4, 1, 5, "[1]", "", "invalid literal '-Infinity'"},
      {"huge", head + "\"bbox\": [1, 2, 1e400, 4]}]}", h + 15, 2, col + 15, "annotations[1]", "bbox[2]",
       "range of a double"},
      {"bigint", "[18446744073709551616]", 1, 1, 2, "[0]", "", "64 bits"},
      {"trailing_comma", "{\"a\": [1, 2,]}", 12, 1, 13, "a[2]", "", "trailing comma"},
      {"missing_comma", "{\"images\": [{\"id\": 1} {\"id\": 2}]}", 22, 1, 23, "images[0]", "", "expected ',' or ']'"},
      {"unclosed", "{\"images\": [", 12, 1, 13, "images[0]", "", "ends where a value"},
      {"unclosed_string", "{\"categories\": [{\"name\": \"ca", 25, 1, 26, "categories[0]", "name", "never closed"},
      {"raw_newline", "[\"a\nb\"]", 3, 1, 4, "[0]", "", "control character"},
      {"bad_escape", "[\"a\\qb\"]", 3, 1, 4, "[0]", "", "unknown escape"},
      {"lone_surrogate", "[\"\\ud800x\"]", 2, 1, 3, "[0]", "", "surrogate"},
      {"not_utf8", "[\"a\xff\"]", 3, 1, 4, "[0]", "", "not UTF-8"},
      {"single_quotes", "{'a': 1}", 1, 1, 2, "", "", "expected a key in double quotes"},
      {"leading_zero", "{\"info\": {\"year\": 02}}", 18, 1, 19, "", "info.year", "malformed number '02'"},
      {"after_end", "{} x", 3, 1, 4, "", "", "after the end"},
      {"empty", "   ", 3, 1, 4, "", "", "no JSON value"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto e = find_json_syntax_error(c.text);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->offset, c.offset);
    EXPECT_EQ(e->line, c.line);
    EXPECT_EQ(e->column, c.column);
    EXPECT_EQ(e->entry, c.entry);
    EXPECT_EQ(e->field, c.field);
    EXPECT_NE(e->problem.find(c.problem_part), std::string::npos) << e->problem;
    EXPECT_NE(e->message().find("at byte " + std::to_string(c.offset)), std::string::npos) << e->message();
  }
}

TEST(JsonSyntax, ValidTextHasNoError) {
  for (const char* ok :
       {"{}", "[]", " [1, -0, 0.5e-3, 1E+2, \"\\u00e9\\ud83d\\ude00\\n\", true, false, null, {\"a\": []}] ",
        "\xEF\xBB\xBF{\"bom\": 1}", "[-9223372036854775808, 18446744073709551615, 1e308]"})
    EXPECT_FALSE(find_json_syntax_error(ok).has_value()) << ok;
}

TEST(JsonSyntax, DepthLimitIsSimdjsonsAndTheScanDoesNotRecurse) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const auto e = find_json_syntax_error(deep, 1024);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->offset, 1024u);
  EXPECT_NE(e->problem.find("nested more than 1024"), std::string::npos);
  EXPECT_FALSE(find_json_syntax_error(std::string(1024, '[') + std::string(1024, ']'), 1024).has_value());
}

// The defect: "improper structure" with no position. Now the readers name offset, line:column, entry
// and field.
TEST(JsonSyntax, ReadersReportPositionEntryAndField) {
  const fs::path dir = cvtk::testing::scratch_dir("json_syntax_readers");
  write_text(dir / "gt.json",
             "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 100, \"height\": 80}],\n"
             "\"categories\": [{\"id\": 1, \"name\": \"cat\"}],\n"
             "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [1, NaN, 5, 5]}]}");
  try {
    read_coco(dir / "gt.json");
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.entry(), "annotations[0]");
    EXPECT_EQ(e.field(), "bbox[1]");
    EXPECT_NE(std::string(e.what()).find("at byte 187 (line 3, column 72)"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), "parse");
  }
  // Results files: the top-level array's element.
  const Dataset gt = [&] {
    write_text(dir / "ok.json", R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
      "categories": [{"id": 1, "name": "cat"}], "annotations": []})");
    return read_coco(dir / "ok.json");
  }();
  write_text(dir / "dets.json", R"([{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5},
  {"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 1e999}])");
  try {
    read_coco_results(dir / "dets.json", gt);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.entry(), "[1]");
    EXPECT_EQ(e.field(), "score");
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(JsonSyntax, ByteOrderMarkIsSkipped) {
  const fs::path file = cvtk::testing::scratch_dir("json_bom") / "gt.json";
  write_text(file,
             "\xEF\xBB\xBF{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 10, \"height\": 8}], "
             "\"categories\": [{\"id\": 1, \"name\": \"cat\"}], \"annotations\": []}");
  const Dataset ds = read_coco(file);
  EXPECT_EQ(ds.images.size(), 1u);
}

// Error messages are one printable line whatever the files hold: quoted values are shortened, control
// characters and bytes that are not UTF-8 are escaped, once, in FormatError / IoError / IssueSink.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/common.h"
#include "vision/data/check.h"
#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/issue_sink.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

using cvtk::testing::write_text;

bool one_printable_line(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return false;
  return true;
}

}  // namespace

TEST(Printable, EscapesControlsAndBadUtf8AndKeepsGoodUtf8) {
  EXPECT_EQ(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(printable("bell\x07 esc\x1b[31m del\x7f"), "bell\\x07 esc\\x1b[31m del\\x7f");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // é €
  EXPECT_EQ(printable("bad \xff\xfe end"), "bad \\xff\\xfe end");
  EXPECT_EQ(printable("cut \xe2\x82"), "cut \\xe2\\x82");  // a sequence cut short
}

TEST(Printable, ShortensLongValuesAndSaysHowLong) {
  const std::string big(50 * 1024 * 1024, 'x');
  const std::string p = printable(big);
  EXPECT_EQ(p, std::string(kQuoteLimit, 'x') + "... (52428800 bytes)");
  EXPECT_EQ(quote(big), "'" + p + "'");
  EXPECT_EQ(printable(std::string(kQuoteLimit, 'y')), std::string(kQuoteLimit, 'y'));  // at the limit: whole
  // Never inside a UTF-8 sequence: 59 ASCII bytes then a 2-byte character straddling the limit.
  const std::string straddle = std::string(kQuoteLimit - 1, 'a') + "\xc3\xa9" + "tail";
  EXPECT_EQ(printable(straddle),
            std::string(kQuoteLimit - 1, 'a') + "... (" + std::to_string(straddle.size()) + " bytes)");
  EXPECT_EQ(printable(big, 0).size(), big.size());  // 0: never cut
}

TEST(OneLineMessage, ShortensLongQuotedPartsOnlyAndIsIdempotent) {
  const std::string big(100000, 'v');
  const std::string m = one_line_message("expected a number, got '" + big + "'\nsecond line");
  EXPECT_TRUE(one_printable_line(m)) << m;
  EXPECT_EQ(m, "expected a number, got '" + std::string(kQuoteLimit, 'v') + "... (100000 bytes)'\\nsecond line");
  const std::string q = "class " + quote(big + "\n") + " is unknown";
  EXPECT_EQ(one_line_message(q), q);  // what quote() made is left as it is
  EXPECT_EQ(one_line_message(one_line_message(m)), one_line_message(m));
  EXPECT_LT(one_line_message(std::string(10000, 'z')).size(), 2100u);  // a last guard on the whole line
}

// The defect: a 50 MB field was quoted whole, and newlines in a value split the error line.
TEST(FormatError, EveryPartIsOnePrintableShortLine) {
  const std::string big(50 * 1024 * 1024, 'n');
  FormatError e("dir/with\nnewline.json", "image '" + big + "'", "field\ttab", "got '" + big + "' \x1b[2J");
  const std::string what = e.what();
  EXPECT_TRUE(one_printable_line(what)) << what.substr(0, 300);
  EXPECT_LT(what.size(), 400u);
  EXPECT_NE(what.find("dir/with\\nnewline.json"), std::string::npos) << what;
  EXPECT_NE(what.find("(52428800 bytes)"), std::string::npos) << what;
  EXPECT_EQ(e.field(), "field\\ttab");
  EXPECT_EQ(e.kind(), "bad_value");
  IoError io("a\nb: cannot open");
  EXPECT_STREQ(io.what(), "a\\nb: cannot open");
}

TEST(IssueSink, LenientIssuesAreSanitisedToo) {
  std::vector<Issue> issues;
  cvtk::data::detail::IssueSink sink(&issues);
  sink.report("f\n.xml", "object 1", "name", "bad_value", "class '" + std::string(5000, 'c') + "\r\n'");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].file, "f\\n.xml");
  EXPECT_TRUE(one_printable_line(issues[0].message));
  EXPECT_LT(issues[0].message.size(), 200u);
  sink.report(FormatError("g.json", "images[0]", "id", "duplicate", "duplicate_id"));
  EXPECT_EQ(issues[1].kind, "duplicate_id");
  cvtk::data::detail::IssueSink strict(nullptr);
  EXPECT_THROW(strict.report(FormatError("g.json", "", "", "x")), FormatError);
}

// Through a reader: a COCO file name of 1 MB with newlines gives a short one-line error.
TEST(FormatError, HugeFieldFromAFileIsShortened) {
  const fs::path file = cvtk::testing::scratch_dir("messages_huge_field") / "gt.json";
  const std::string name = std::string(1 << 20, 'a') + "\\n";
  write_text(file, R"({"categories": [{"id": 1, "name": "cat"}], "images": [{"id": 1, "file_name": ")" + name +
                       R"(", "width": 4, "height": 4}, {"id": 2, "file_name": ")" + name +
                       R"(", "width": 4, "height": 4}]})");
  try {
    read_coco(file);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(one_printable_line(what));
    EXPECT_LT(what.size(), 300u) << what.substr(0, 300);
    EXPECT_EQ(e.entry(), "images[1]");
    EXPECT_EQ(e.field(), "file_name");
    EXPECT_NE(what.find("(1048577 bytes)"), std::string::npos) << what;
  }
  // And in data check's list.
  CheckOptions o;
  const CheckReport r = check_dataset(file, o);
  ASSERT_FALSE(r.issues.empty());
  for (const Issue& i : r.issues) EXPECT_LT(i.message.size(), 300u) << i.message.substr(0, 300);
}

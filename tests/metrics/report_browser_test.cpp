// The HTML report opened in headless Chromium: its script runs without errors, it makes no network
// request, the class table sorts, hostile class names render as text; a screenshot of the first screen
// is left in the build tree (test_artifacts/eval_report_first_screen.png). The dataset page likewise
// (test_artifacts/dataset_report_first_screen.png), and the training page. Skips when Chromium is not
// installed (scripts/setup.sh installs it). Every browser run has a time limit, so no test hangs.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "metrics/dataset_report.h"
#include "metrics/html_report.h"
#include "metrics/training_report.h"
#include "tests/common.h"
#include "tests/metrics/report_case.h"
#include "tests/apps/cli_run.h"

using namespace cvtk;
namespace fs = std::filesystem;

namespace {

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    const auto r = cvtk::testing::run_shell(std::string("command -v ") + name + " 2>/dev/null");
    if (r.code == 0 && !r.output.empty()) return name;
  }
  return "";
}

struct BrowserRun {
  int code = -1;
  std::string dom;          // stdout: the DOM after the page's scripts ran (--dump-dom)
  std::string stderr_text;  // Chromium's log, console messages included
};

// Runs headless Chromium on the page with `args` (e.g. --dump-dom), its profile in `profile`, for at
// most 90 s; the page's console messages reach stderr through --enable-logging.
BrowserRun run_browser(const std::string& chromium, const fs::path& profile, const std::string& url,
                       const std::string& args) {
  const fs::path err = profile / "stderr.txt";
  const std::string cmd = "timeout -k 5 90 " + chromium +
                          " --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check "
                          "--disable-extensions --disable-background-networking --disable-sync "
                          "--enable-logging=stderr --v=0 --user-data-dir=" +
                          cvtk::testing::quoted(profile / "profile") + " " + args + " " + cvtk::testing::quoted(url) +
                          " 2>" + cvtk::testing::quoted(err);
  const auto r = cvtk::testing::run_shell(cmd);
  return {r.code, r.output, cvtk::testing::read_file(err)};
}

// The console lines Chromium logged for the page (errors, CSP violations, failed loads).
std::vector<std::string> console_lines(const std::string& log) {
  std::vector<std::string> out;
  std::regex line("[^\n]*(CONSOLE|Refused to|net::ERR_)[^\n]*");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}

class ReportBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = chromium_binary();
    if (chromium_.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it): skipping";
    dir_ = cvtk::testing::process_scratch_dir("report_browser");
    const auto c = cvtk::testing::make_report_case(dir_ / "images");
    page_ = dir_ / "report.html";
    cvtk::testing::write_text(page_, metrics::html_report(c.reports, c.gt, c.dets));
  }
  std::string url(const std::string& fragment = "") const { return "file://" + page_.string() + fragment; }

  std::string chromium_;
  fs::path dir_, page_;
};

}  // namespace

TEST_F(ReportBrowser, ScriptRunsWithoutErrorsOrRequestsAndSorts) {
  const BrowserRun r = run_browser(chromium_, dir_, url("#sort-self-test"), "--dump-dom");
  ASSERT_EQ(r.code, 0) << r.stderr_text;
  ASSERT_NE(r.dom.find("data-js=\"ready\""), std::string::npos) << "the page's script did not finish:\n"
                                                                << r.stderr_text;
  EXPECT_EQ(r.dom.find("data-js-errors=\"yes\""), std::string::npos) << r.dom.substr(0, 2000);
  EXPECT_NE(r.dom.find("<pre id=\"js-errors\"></pre>"), std::string::npos);
  const auto console = console_lines(r.stderr_text);
  for (const auto& l : console) ADD_FAILURE() << "console: " << l;
  // The self-test clicked AP50: the table says so and its rows are in descending AP50 order.
  EXPECT_NE(r.dom.find("data-sorted=\"AP50 desc\""), std::string::npos);
  const size_t table = r.dom.find("id=\"class-table\""), end = r.dom.find("</table>", table);
  ASSERT_NE(table, std::string::npos);
  const std::string rows = r.dom.substr(table, end - table);
  std::vector<double> ap50;
  std::regex row("<tr><td class=\"name\">[^<]*</td><td data-v=\"([-0-9.]+)\"[^>]*>[^<]*</td><td data-v=\"([-0-9.]+)\"");
  for (auto it = std::sregex_iterator(rows.begin(), rows.end(), row); it != std::sregex_iterator(); ++it)
    ap50.push_back(std::stod((*it)[2]));
  ASSERT_EQ(ap50.size(), 3u) << rows;
  EXPECT_TRUE(std::is_sorted(ap50.rbegin(), ap50.rend())) << rows;
  EXPECT_LT(ap50.back(), ap50.front()) << "the case's classes should differ in AP50";
}

TEST_F(ReportBrowser, HostileClassNamesRenderAsText) {
  const BrowserRun r = run_browser(chromium_, dir_, url(), "--dump-dom");
  ASSERT_EQ(r.code, 0) << r.stderr_text;
  // Serialised back from the DOM: a name that had become an element would appear unescaped.
  EXPECT_EQ(r.dom.find(cvtk::testing::kHostileClass), std::string::npos);
  EXPECT_NE(r.dom.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(r.dom.find("say \"hi\" &amp; 'bye'"), std::string::npos);
  EXPECT_NE(r.dom.find(cvtk::testing::kUmlautClass), std::string::npos);
  // Only the page's own two scripts exist.
  size_t scripts = 0;
  for (size_t p = r.dom.find("<script"); p != std::string::npos; p = r.dom.find("<script", p + 1)) ++scripts;
  EXPECT_EQ(scripts, 2u);
  EXPECT_FALSE(std::regex_search(r.dom, std::regex("https?:", std::regex::icase)));
}

TEST_F(ReportBrowser, ScreenshotOfTheFirstScreen) {
  const fs::path artefacts = cvtk::testing::binary_dir() / "test_artifacts";
  fs::create_directories(artefacts);
  const fs::path png = artefacts / "eval_report_first_screen.png";
  fs::remove(png);
  const BrowserRun r = run_browser(
      chromium_, dir_, url(), "--hide-scrollbars --window-size=1280,900 --screenshot=" + cvtk::testing::quoted(png));
  ASSERT_EQ(r.code, 0) << r.stderr_text;
  ASSERT_TRUE(fs::exists(png)) << r.stderr_text;
  const std::string bytes = cvtk::testing::read_file(png);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  for (const auto& l : console_lines(r.stderr_text)) ADD_FAILURE() << "console: " << l;
}

TEST_F(ReportBrowser, DatasetPage) {
  const auto c = cvtk::testing::make_report_case(dir_ / "images");
  const fs::path page = dir_ / "dataset.html";
  metrics::DatasetReportOptions o;
  o.source = "synthetic";
  cvtk::testing::write_text(page, metrics::dataset_report_html({c.gt}, {data::compute_stats(c.gt)}, o));
  const BrowserRun r = run_browser(chromium_, dir_, "file://" + page.string(), "--dump-dom");
  ASSERT_EQ(r.code, 0) << r.stderr_text;
  EXPECT_NE(r.dom.find("data-js=\"ready\""), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.dom.find("data-js-errors=\"yes\""), std::string::npos);
  EXPECT_EQ(r.dom.find(cvtk::testing::kHostileClass), std::string::npos);
  for (const auto& l : console_lines(r.stderr_text)) ADD_FAILURE() << "console: " << l;
  const fs::path png = cvtk::testing::binary_dir() / "test_artifacts" / "dataset_report_first_screen.png";
  fs::create_directories(png.parent_path());
  const BrowserRun shot =
      run_browser(chromium_, dir_, "file://" + page.string(),
                  "--hide-scrollbars --window-size=1280,900 --screenshot=" + cvtk::testing::quoted(png));
  ASSERT_EQ(shot.code, 0) << shot.stderr_text;
  EXPECT_TRUE(fs::exists(png));
}

TEST_F(ReportBrowser, TrainingPage) {
  const fs::path run = dir_ / "run";
  std::string rows;
  for (int e = 1; e <= 3; ++e)
    rows += "{\"epoch\":" + std::to_string(e) + ",\"lr\":0.01,\"loss\":" + std::to_string(2.0 / e) +
            ",\"val_map50\":" + (e == 1 ? std::string("-1") : std::to_string(0.3 * e)) + "}\n";
  cvtk::testing::write_text(run / "results.jsonl", rows);
  cvtk::testing::write_text(run / "options.toml", std::string("data = \"") + cvtk::testing::kHostileClass + "\"\n");
  const fs::path page = metrics::write_training_report(run);
  const BrowserRun r = run_browser(chromium_, dir_, "file://" + page.string(), "--dump-dom");
  ASSERT_EQ(r.code, 0) << r.stderr_text;
  EXPECT_NE(r.dom.find("data-js=\"ready\""), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.dom.find("data-js-errors=\"yes\""), std::string::npos);
  EXPECT_NE(r.dom.find("id=\"epoch-table\""), std::string::npos);
  EXPECT_EQ(r.dom.find(cvtk::testing::kHostileClass), std::string::npos);
  for (const auto& l : console_lines(r.stderr_text)) ADD_FAILURE() << "console: " << l;
}

// The HTML report's parts: escaping, base64, SVG axes and coordinates, the operating point, and the
// page itself on a case with hostile class names and a missing image.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

#include "metrics/base64.h"
#include "metrics/html_escape.h"
#include "metrics/dataset_report.h"
#include "metrics/gallery.h"
#include "metrics/html_report.h"
#include "metrics/operating_point.h"
#include "metrics/svg_plot.h"
#include "tests/common.h"
#include "tests/metrics/report_case.h"

using namespace cvtk;

TEST(HtmlEscape, EscapesMarkupKeepsUtf8AndReplacesControlBytes) {
  EXPECT_EQ(metrics::html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(metrics::html_escape("Zellkern-\xC3\xA4"), "Zellkern-\xC3\xA4");
  EXPECT_EQ(metrics::html_escape(std::string("a\x01"
                                             "b\tc\n",
                                             6)),
            "a\xEF\xBF\xBD"
            "b\tc\n");
  EXPECT_EQ(metrics::html_escape(""), "");
}

TEST(Base64, Rfc4648Vectors) {
  const char* in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(metrics::base64(in[i]), out[i]) << in[i];
  EXPECT_EQ(metrics::base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(SvgPlot, TickLabels) {
  EXPECT_EQ(metrics::tick_label(0), "0");
  EXPECT_EQ(metrics::tick_label(0.2), "0.2");
  EXPECT_EQ(metrics::tick_label(0.25), "0.25");
  EXPECT_EQ(metrics::tick_label(1), "1");
  EXPECT_EQ(metrics::tick_label(-1e-12), "0");
}

TEST(SvgPlot, FrameMapsDataCornersToPlotCornersWithYUp) {
  metrics::PlotOptions o;
  o.width = 300, o.height = 200;
  const metrics::PlotFrame f = metrics::plot_frame(o);
  EXPECT_GT(f.left, 20);  // room for the y tick labels and axis label
  EXPECT_LT(f.left + f.width, 300);
  EXPECT_LT(f.top + f.height, 200 - 25);  // room for the x ticks and label
  EXPECT_DOUBLE_EQ(f.px(0), f.left);
  EXPECT_DOUBLE_EQ(f.px(1), f.left + f.width);
  EXPECT_DOUBLE_EQ(f.px(0.5), f.left + f.width / 2);
  EXPECT_DOUBLE_EQ(f.py(0), f.top + f.height);  // precision 0 at the bottom
  EXPECT_DOUBLE_EQ(f.py(1), f.top);
  EXPECT_DOUBLE_EQ(f.px(2), f.left + f.width);  // clamped
  EXPECT_DOUBLE_EQ(f.py(-1), f.top + f.height);
}

TEST(SvgPlot, LinePlotHasBothAxesTicksLabelsAndEscapedText) {
  metrics::PlotOptions o;
  o.title = "PR <b>";
  o.x_label = "recall";
  o.y_label = "precision";
  const std::string svg =
      metrics::svg_line_plot(o, {{"c<1>", {0, 1}, {1, 0}, "#123456", 1.5, false}}, {{0.5, 0.5, "op", "#d62728", true}});
  for (const char* t : {"0", "0.2", "0.4", "0.6", "0.8", "1"}) {
    const std::string label = std::string(">") + t + "</text>";
    size_t n = 0;
    for (size_t p = svg.find(label); p != std::string::npos; p = svg.find(label, p + 1)) ++n;
    EXPECT_EQ(n, 2u) << "tick " << t << " on each axis";
  }
  EXPECT_NE(svg.find(">recall</text>"), std::string::npos);
  EXPECT_NE(svg.find("rotate(-90)\" text-anchor=\"middle\" class=\"label\">precision</text>"), std::string::npos);
  EXPECT_NE(svg.find("PR &lt;b&gt;"), std::string::npos);
  EXPECT_NE(svg.find("c&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  // Recall on x: the point (0, 1) is the plot's top-left corner, (1, 0) its bottom-right.
  const metrics::PlotFrame f = metrics::plot_frame(o);
  char pts[96];
  std::snprintf(pts, sizeof pts, "points=\"%.1f,%.1f %.1f,%.1f\"", f.left, f.top, f.left + f.width, f.top + f.height);
  EXPECT_NE(svg.find(pts), std::string::npos) << svg;
  EXPECT_NE(svg.find("<circle"), std::string::npos);
}

TEST(SvgPlot, NanBreaksTheLine) {
  const std::string svg = metrics::svg_line_plot({}, {{"", {0, 0.5, 0.6, 1}, {0, 1, NAN, 1}, "#000", 1, false}});
  size_t n = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++n;
  EXPECT_EQ(n, 2u);
}

namespace {

// gt 3; scores 0.9 0.8 0.6 0.3 give (tp, fp) (1,0) (2,0) (2,1) (2,2).
metrics::ScoreCurve hand_curve() {
  metrics::ScoreCurve c;
  c.gt = 3;
  c.score = {0.9, 0.8, 0.6, 0.3};
  c.true_positives = {1, 2, 2, 2};
  c.false_positives = {0, 0, 1, 2};
  return c;
}

}  // namespace

TEST(OperatingPoint, PointAtKeepsScoresAtOrAboveTheThreshold) {
  const auto c = hand_curve();
  auto p = metrics::point_at(c, 0.8);  // 0.9 and 0.8 kept
  EXPECT_EQ(p.true_positives, 2u);
  EXPECT_EQ(p.false_positives, 0u);
  EXPECT_DOUBLE_EQ(p.precision, 1.0);
  EXPECT_DOUBLE_EQ(p.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(p.f1, 4.0 / 5);
  p = metrics::point_at(c, 0.5);
  EXPECT_DOUBLE_EQ(p.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(p.f1, 4.0 / 6);
  p = metrics::point_at(c, 0.95);  // nothing kept
  EXPECT_TRUE(std::isnan(p.precision));
  EXPECT_EQ(p.recall, 0);
  EXPECT_EQ(p.f1, 0);
}

TEST(OperatingPoint, SweepPicksTheLowestThresholdOfTheHighestMeanF1) {
  metrics::ScoreCurve empty;  // a class without ground truth takes no part in the means
  empty.score = {0.99};
  empty.true_positives = {0};
  empty.false_positives = {1};
  const auto w = metrics::sweep_thresholds({hand_curve(), empty}, 10);
  ASSERT_EQ(w.threshold.size(), 11u);
  EXPECT_EQ(w.classes, 1u);
  // F1 per threshold: <= 0.3: 4/7, <= 0.6: 4/6, <= 0.8: 4/5, <= 0.9: 2/4, above: 0.
  EXPECT_EQ(w.best, 7u);
  EXPECT_NEAR(w.best_threshold(), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(w.f1[7], 0.8);
  EXPECT_DOUBLE_EQ(w.f1[8], 0.8);
  EXPECT_DOUBLE_EQ(w.f1[0], 4.0 / 7);
  EXPECT_DOUBLE_EQ(w.precision[7], 1.0);
  EXPECT_DOUBLE_EQ(w.recall[7], 2.0 / 3);
  EXPECT_TRUE(std::isnan(w.precision[10]));  // 1.0: nothing kept
  EXPECT_EQ(w.f1[10], 0);
}

TEST(OperatingPoint, SweepWithoutGroundTruth) {
  const auto w = metrics::sweep_thresholds({}, 4);
  ASSERT_EQ(w.threshold.size(), 5u);
  EXPECT_EQ(w.best, 0u);
  EXPECT_EQ(w.f1[2], 0);
}

TEST(HtmlReport, SelfContainedEscapedAndComplete) {
  const auto dir = cvtk::testing::scratch_dir("html_report_unit");
  const auto c = cvtk::testing::make_report_case(dir / "images");
  metrics::HtmlReportOptions o;
  o.model = "model <x>";
  o.created = "2026-01-01 00:00 UTC";
  const std::string html = metrics::html_report(c.reports, c.gt, c.dets, o);
  // No network: the policy allows nothing but inline code and data: images, and nothing names a URL.
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
                      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"),
            std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex("https?:", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex("(src|href)=\"(?!data:)", std::regex::ECMAScript)));
  // Hostile names only as text.
  EXPECT_EQ(html.find(cvtk::testing::kHostileClass), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("say &quot;hi&quot; &amp; &#39;bye&#39;"), std::string::npos);
  EXPECT_NE(html.find(cvtk::testing::kUmlautClass), std::string::npos);
  EXPECT_NE(html.find("model &lt;x&gt;"), std::string::npos);
  // Every section, and the headline numbers of the three protocols.
  for (const char* id :
       {"id=\"class-table\"", "id=\"curves\"", "id=\"confusion\"", "id=\"errors\"", "id=\"sizes\"", "id=\"gallery\"",
        "COCO AP@[.50:.95]", "VOC mAP (all-point)", "VOC07 mAP (11-point)", "AR@100 large", "<i>missed</i>",
        "<i>spurious</i>", ">Loc<", ">Cls<", ">Dupe<", ">Bkg<", ">Miss<", ">Both<", "data:image/jpeg;base64,"})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  // The missing image is named in the gallery instead of failing the report.
  EXPECT_NE(html.find("image not readable"), std::string::npos);
  EXPECT_NE(html.find("im7.jpg"), std::string::npos);
  EXPECT_LT(html.size(), 400u * 1024);
}

// A JPEG cut short is named as such in the gallery, not drawn with the decoder's grey fill.
TEST(HtmlReport, GalleryNamesACutOffImage) {
  const auto dir = cvtk::testing::scratch_dir("html_report_cut");
  const auto c = cvtk::testing::make_report_case(dir / "images");
  const std::string whole = cvtk::testing::read_file(dir / "images" / "im0.jpg");
  cvtk::testing::write_text(dir / "images" / "im0.jpg", whole.substr(0, whole.size() / 2));
  const std::string html = metrics::gallery_html(c.gt, c.dets, metrics::analyze_errors(c.gt, c.dets));
  EXPECT_TRUE(std::regex_search(html, std::regex("image not readable: [^<]*im0\\.jpg: truncated JPEG"))) << html;
}

TEST(HtmlReport, ConfusionMatrixUsesTheStatedOperatingPoint) {
  const auto dir = cvtk::testing::scratch_dir("html_report_op");
  const auto c = cvtk::testing::make_report_case(dir / "images");
  const auto curves = metrics::score_curves(c.gt, c.dets);
  const auto w = metrics::sweep_thresholds(curves);
  const std::string html = metrics::html_report(c.reports, c.gt, c.dets);
  char stated[64];
  std::snprintf(stated, sizeof stated, "Detections with score &ge; %.3f (the operating point)", w.best_threshold());
  EXPECT_NE(html.find(stated), std::string::npos) << stated;
}

TEST(HtmlReport, NeedsAReport) {
  const auto c = cvtk::testing::make_report_case(cvtk::testing::scratch_dir("html_report_none"));
  EXPECT_THROW(metrics::html_report({}, c.gt, c.dets), std::invalid_argument);
}

TEST(SvgPlot, NiceCeilingGivesShortTicks) {
  EXPECT_DOUBLE_EQ(metrics::nice_ceiling(290, 5), 300);
  EXPECT_DOUBLE_EQ(metrics::nice_ceiling(851, 5), 1000);
  EXPECT_DOUBLE_EQ(metrics::nice_ceiling(1, 5), 1);
  EXPECT_DOUBLE_EQ(metrics::nice_ceiling(0.37, 5), 0.4);
  EXPECT_DOUBLE_EQ(metrics::nice_ceiling(100, 5), 100);
  EXPECT_DOUBLE_EQ(metrics::nice_ceiling(0, 5), 1);
}

TEST(SvgPlot, HeatmapCellsAndReversedAxis) {
  metrics::PlotOptions o;
  o.y_min = 1, o.y_max = 0;  // image rows: 0 at the top
  const std::string svg = metrics::svg_heatmap(o, {{3, 0}, {0, 1}});
  size_t cells = 0;
  for (size_t p = svg.find("<rect x="); p != std::string::npos; p = svg.find("<rect x=", p + 1)) ++cells;
  EXPECT_EQ(cells, 3u);  // two non-empty bins and the frame
  // Bin row 0 covers y in [1, 0.5): with the axis reversed it is the lower half of the frame.
  const metrics::PlotFrame f = metrics::plot_frame(o);
  char first[64];
  std::snprintf(first, sizeof first, "<rect x=\"%.1f\" y=\"%.1f\"", f.left, f.top + f.height / 2);
  EXPECT_NE(svg.find(first), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>3</title>"), std::string::npos);
  EXPECT_NE(svg.find("darkest cell: 3 boxes"), std::string::npos);
}

TEST(DatasetReport, CountsEscapingAndNoFetches) {
  auto c = cvtk::testing::make_report_case(cvtk::testing::scratch_dir("dataset_report_unit") / "images");
  c.gt.images[2].objects.clear();  // one empty image
  c.gt.split = "val";
  const data::SplitStats stats = data::compute_stats(c.gt);
  metrics::DatasetReportOptions o;
  o.source = "data/<x>";
  const std::string html = metrics::dataset_report_html({c.gt}, {stats}, o);
  EXPECT_FALSE(std::regex_search(html, std::regex("https?:", std::regex::icase)));
  EXPECT_EQ(html.find(cvtk::testing::kHostileClass), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("data/&lt;x&gt;"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  // 7 images with 3 objects and one empty: its name is listed.
  EXPECT_NE(html.find("<td class=\"name\">val</td><td>8</td><td>21</td><td>1</td>"), std::string::npos);
  EXPECT_NE(html.find("<b>val</b>: 1 &mdash; im2"), std::string::npos);
  for (const char* label : {"centre x / image width", "centre y / image height", "box width / image width",
                            "box height / image height", "sqrt(box area), px", "objects"})
    EXPECT_NE(html.find(std::string(">") + label + "</text>"), std::string::npos) << label;
  EXPECT_THROW(metrics::dataset_report_html({}, {}), std::invalid_argument);
}

// A box near the top of its image lands in the top row of the centre histogram: its axis runs down,
// as image rows do.
TEST(DatasetReport, CentreHistogramRowsRunDownTheImage) {
  data::Dataset ds;
  ds.classes = {"a"};
  data::ImageRecord r;
  r.id = 1, r.name = "im", r.file = "im.jpg", r.width = 100, r.height = 100;
  data::Object top;
  top.box = {5, 5, 15, 15};  // centre (0.1, 0.1)
  r.objects.push_back(top);
  ds.images.push_back(r);
  const std::string html = metrics::dataset_report_html({ds}, {data::compute_stats(ds)});
  const size_t plot = html.find("box centres");
  ASSERT_NE(plot, std::string::npos);
  // The dataset page draws the centre histogram 300 x 290 (plot_frame of those options).
  metrics::PlotOptions o;
  o.width = 300, o.height = 290;
  const metrics::PlotFrame f = metrics::plot_frame(o);
  std::smatch cell;
  const std::string svg = html.substr(plot);
  ASSERT_TRUE(std::regex_search(svg, cell, std::regex("<rect x=\"([0-9.]+)\" y=\"([0-9.]+)\"[^>]*fill=\"rgba")));
  EXPECT_NEAR(std::stod(cell[1]), f.left + 0.1 * f.width, 0.1);  // bin [0.1, 0.15) of 20
  EXPECT_NEAR(std::stod(cell[2]), f.top + 0.1 * f.height, 0.1) << "the image's top row is drawn at the bottom";
}

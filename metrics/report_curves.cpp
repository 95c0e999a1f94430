// The report's curves: precision-recall (mean and per class) and precision / recall / F1 against the
// score threshold.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "metrics/html_escape.h"
#include "metrics/report_sections.h"
#include "metrics/svg_plot.h"

namespace cvtk::metrics::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxScorePoints = 200;  // per drawn score curve; more points only add bytes

// The mean over classes with ground truth of a per-class curve sampled at the same recall points.
std::vector<double> mean_curve(const Report& r, bool at_75) {
  std::vector<double> sum;
  size_t n = 0;
  for (const auto& c : r.classes) {
    const auto& p = at_75 ? c.precision_curve_75 : c.precision_curve;
    if (c.gt == 0 || p.empty()) continue;
    if (sum.empty()) sum.assign(p.size(), 0.0);
    for (size_t i = 0; i < p.size() && i < sum.size(); ++i) sum[i] += std::max(0.0, p[i]);
    ++n;
  }
  for (double& v : sum) v /= static_cast<double>(n);
  return sum;
}

std::string iou_name(const Report& r, bool at_75) {
  if (r.protocol.kind == ProtocolKind::kCoco) return at_75 ? "IoU 0.75" : "IoU 0.5";
  return "IoU > " + number(r.protocol.iou_threshold, 2);
}

PlotOptions pr_options(const std::string& title) {
  PlotOptions o;
  o.title = title;
  o.x_label = "recall";
  o.y_label = "precision";
  return o;
}

// Keeps at most n points of a curve, evenly spaced by index, the last one included.
void thin(std::vector<double>& x, std::vector<double>& y, size_t n) {
  if (x.size() <= n) return;
  std::vector<double> tx, ty;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = i * (x.size() - 1) / (n - 1);
    tx.push_back(x[k]), ty.push_back(y[k]);
  }
  x.swap(tx), y.swap(ty);
}

// Sampled precision is 0 past the highest recall a detector reaches: drawn, that reads as a curve running
// along the bottom out to recall 1. The line ends where the recall ends instead.
std::vector<PlotSeries> ending_at_reached_recall(std::vector<PlotSeries> series) {
  for (PlotSeries& s : series) {
    size_t n = s.y.size();
    while (n > 0 && !(s.y[n - 1] > 0)) --n;
    s.x.resize(std::min(n, s.x.size())), s.y.resize(n);
  }
  return series;
}

std::string pr_plots(const Report& r) {
  std::ostringstream h;
  const bool coco = r.protocol.kind == ProtocolKind::kCoco;
  const auto& recall = r.classes.empty() ? std::vector<double>{} : r.classes.front().recall_points;
  std::vector<PlotSeries> mean;
  mean.push_back({"mean, " + iou_name(r, false), recall, mean_curve(r, false), "#1f77b4", 2.0, false});
  if (coco) mean.push_back({"mean, IoU 0.75", recall, mean_curve(r, true), "#ff7f0e", 2.0, true});
  h << "<div class=\"plots\">"
    << svg_line_plot(pr_options("Precision-recall, mean over classes (" + r.protocol.name() + ")"),
                     ending_at_reached_recall(mean));
  std::vector<PlotSeries> all;
  for (size_t k = 0; k < r.classes.size(); ++k) {
    const ClassReport& c = r.classes[k];
    if (c.gt == 0) continue;
    all.push_back({c.name + " " + number(coco ? c.ap50 : c.ap), c.recall_points, c.precision_curve, series_colour(k),
                   1.5, false});
  }
  h << svg_line_plot(pr_options("Precision-recall per class, " + iou_name(r, false)), ending_at_reached_recall(all))
    << "</div>\n";
  h << "<h3>Precision-recall per class</h3><p class=\"note\">Solid: " << iou_name(r, false)
    << (coco ? "; dashed: IoU 0.75" : "")
    << ". Ring: the class's best-F1 point (its score is the class table's &ldquo;score&rdquo; column).</p><div "
       "class=\"plots\">";
  for (size_t k = 0; k < r.classes.size(); ++k) {
    const ClassReport& c = r.classes[k];
    PlotOptions o = pr_options(c.name);
    o.width = 250, o.height = 220;
    if (c.gt == 0) {
      h << svg_line_plot(o, {}, {{0.5, 0.5, "no ground truth", "#999", false}});
      continue;
    }
    std::vector<PlotSeries> s;
    s.push_back({"AP" + std::string(coco ? "50 " + number(c.ap50) : " " + number(c.ap)), c.recall_points,
                 c.precision_curve, series_colour(k), 1.8, false});
    if (coco)
      s.push_back({"AP75 " + number(c.ap75), c.recall_points, c.precision_curve_75, series_colour(k), 1.2, true});
    std::vector<PlotMarker> m;
    if (c.best_f1 > 0)
      m.push_back({c.best_f1_recall, c.best_f1_precision, "F1 " + number(c.best_f1, 2), "#d62728", false});
    h << svg_line_plot(o, ending_at_reached_recall(s), m);
  }
  h << "</div>\n";
  return h.str();
}

PlotOptions score_options(const std::string& title, const ThresholdSweep& w, const std::string& y_label) {
  PlotOptions o;
  o.title = title;
  o.x_label = "score threshold";
  o.y_label = y_label;
  o.x_min = w.empty() ? 0 : w.threshold.front();
  o.x_max = w.empty() ? 1 : w.threshold.back();
  o.width = 290;
  return o;
}

std::string score_plots(const ReportData& d) {
  const ThresholdSweep& w = d.sweep;
  const double t = w.best_threshold();
  std::ostringstream h;
  h << "<p class=\"note\">Detections with score &ge; the threshold kept; matched as the error analysis matches them "
       "(IoU &ge; "
    << number(d.errors.options.foreground_iou, 2) << ", at most " << d.errors.options.max_detections
    << " per image). Means over the " << w.classes
    << " classes with ground truth. Operating point: the highest mean F1, at score &ge; " << number(t, 3)
    << ".</p><div class=\"plots\">";
  std::vector<PlotSeries> mean = {{"precision", w.threshold, w.precision, "#1f77b4", 2.0, false},
                                  {"recall", w.threshold, w.recall, "#2ca02c", 2.0, false},
                                  {"F1", w.threshold, w.f1, "#d62728", 2.0, false}};
  std::vector<PlotMarker> marks;
  if (!w.empty())
    marks.push_back({t, w.f1[w.best], "F1 " + number(w.f1[w.best], 2) + " @ " + number(t, 2), "#d62728", true});
  h << svg_line_plot(score_options("Mean precision, recall, F1 vs score", w, "value"), mean, marks);
  // Per class: F1, precision and recall each in one plot, every class a line.
  const char* names[] = {"F1", "precision", "recall"};
  for (int which = 0; which < 3; ++which) {
    std::vector<PlotSeries> lines;
    for (size_t k = 0; k < d.curves.size(); ++k) {
      const ScoreCurve& c = d.curves[k];
      if (c.gt == 0) continue;
      // Step curves: from the highest score down, each point holds until the next lower score.
      std::vector<double> x = {w.empty() ? 1 : w.threshold.back()}, y = {which == 1 ? kNaN : 0.0};
      const auto& v = which == 0 ? c.f1 : which == 1 ? c.precision : c.recall;
      for (size_t i = 0; i < c.score.size(); ++i) {
        x.push_back(c.score[i]), y.push_back(i ? v[i - 1] : y.front());
        x.push_back(c.score[i]), y.push_back(v[i]);
      }
      if (!c.score.empty()) x.push_back(w.empty() ? 0 : w.threshold.front()), y.push_back(v.back());
      thin(x, y, kMaxScorePoints);
      lines.push_back({c.name, x, y, series_colour(k), 1.4, false});
    }
    marks.clear();
    if (!w.empty())
      marks.push_back({t,
                       which == 0   ? w.f1[w.best]
                       : which == 1 ? w.precision[w.best]
                                    : w.recall[w.best],
                       "", "#d62728", true});
    h << svg_line_plot(score_options(std::string(names[which]) + " per class vs score", w, names[which]), lines, marks);
  }
  h << "</div>\n";
  return h.str();
}

}  // namespace

std::string curves_section(const ReportData& d) {
  std::ostringstream h;
  h << "<h2 id=\"curves\">Curves</h2>\n";
  if (const Report* r = d.curve_report()) h << pr_plots(*r);
  h << "<h3>Precision, recall and F1 against the score threshold</h3>\n" << score_plots(d);
  return h.str();
}

}  // namespace cvtk::metrics::detail

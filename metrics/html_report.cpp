// The evaluation report's page: its first screen (run context, headline numbers, the class table) and
// the assembly of the sections (report_sections.h, gallery.h).
#include "metrics/html_report.h"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

#include "metrics/html_escape.h"
#include "metrics/report_assets.h"
#include "metrics/report_sections.h"

namespace cvtk::metrics {
namespace detail {

std::string number(double v, int digits) { return std::isnan(v) || v < 0 ? "&ndash;" : fixed(v, digits); }

}  // namespace detail

namespace {

using detail::now_utc;

using detail::number;
using detail::ReportData;

std::string thousands(size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

void row(std::ostringstream& h, const std::string& key, const std::string& escaped_value) {
  h << "<dt>" << key << "</dt><dd>" << escaped_value << "</dd>";
}

std::string context(const std::vector<Report>& reports, const ReportData& d, const HtmlReportOptions& o) {
  const Report& r = reports.front();
  std::ostringstream h;
  h << "<div class=\"box\"><dl class=\"ctx\">";
  std::string gt = html_escape(r.ground_truth.empty() ? d.gt->source : r.ground_truth);
  if (!d.gt->split.empty()) gt += " (split " + html_escape(d.gt->split) + ")";
  row(h, "ground truth", gt);
  row(h, "counted",
      thousands(r.images) + " images, " + thousands(r.gt_objects) + " objects, " +
          std::to_string(d.gt->classes.size()) + " classes");
  row(h, "detections",
      thousands(r.detections) + " from " + html_escape(r.detections_source.empty() ? "memory" : r.detections_source));
  if (!o.model.empty()) row(h, "model", html_escape(o.model));
  std::string coverage = html_escape(r.coverage());
  if (r.images_with_detections < r.images) coverage = "<span class=\"warn\">" + coverage + "</span>";
  row(h, "coverage", coverage);
  for (const Report& p : reports) {
    // The settings that tell the protocols apart on the screen; all of them on hover.
    std::string shown, all;
    for (const auto& [k, v] : p.protocol.settings()) {
      all += (all.empty() ? "" : "\n") + k + ": " + v;
      if (k == "AP" || k == "IoU threshold" || k == "IoU thresholds" || k == "max detections" ||
          k == "score threshold" || k == "classes")
        shown += (shown.empty() ? "" : "; ") + k + " " + v;
    }
    row(h, "protocol " + html_escape(p.protocol.name()),
        "<span title=\"" + html_escape(all) + "\">" + html_escape(shown) + "</span>");
  }
  const ErrorOptions& e = d.errors.options;
  row(h, "error analysis",
      "TIDE, t<sub>f</sub> " + number(e.foreground_iou, 2) + ", t<sub>b</sub> " + number(e.background_iou, 2) +
          ", at most " + std::to_string(e.max_detections) + " detections per image");
  row(h, "operating point",
      "score &ge; " + number(d.sweep.best_threshold(), 3) + " (highest mean F1 over classes, " +
          number(d.sweep.empty() ? 0 : d.sweep.f1[d.sweep.best], 3) + ")");
  row(h, "made",
      html_escape(o.created.empty() ? now_utc() : o.created) + "; evaluated in " + detail::fixed(r.seconds, 2) + " s");
  h << "</dl>";
  std::set<std::string> warned;
  for (const Report& p : reports)
    for (const auto& w : p.warnings)
      if (warned.insert(w).second) h << "<p class=\"warn\">warning: " << html_escape(w) << "</p>";
  h << "</div>";
  return h.str();
}

std::string card(const std::string& value, const std::string& name) {
  return "<div class=\"card\"><b>" + value + "</b><span>" + name + "</span></div>";
}

std::string headline(const ReportData& d) {
  std::ostringstream h;
  h << "<div class=\"box\"><div class=\"cards\">";
  if (d.coco) {
    h << card(number(d.coco->headline()), "COCO AP@[.50:.95]");
    const SummaryNumber* ap50 = d.coco->find("AP50");
    if (ap50) h << card(number(ap50->value), "COCO AP50");
  }
  if (d.voc) h << card(number(d.voc->headline()), "VOC mAP (all-point)");
  if (d.voc07) h << card(number(d.voc07->headline()), "VOC07 mAP (11-point)");
  h << card(number(d.errors.ap),
            "TIDE baseline AP" + std::to_string(static_cast<int>(std::lround(100 * d.errors.options.foreground_iou))));
  h << "</div>";
  if (d.coco) {
    const auto& s = d.coco->summary;
    for (size_t half = 0; half < 2 && s.size() >= 12; ++half) {
      h << "<table class=\"coco\"><tr>";
      for (size_t i = half * 6; i < half * 6 + 6; ++i) h << "<th>" << html_escape(s[i].name) << "</th>";
      h << "</tr><tr>";
      for (size_t i = half * 6; i < half * 6 + 6; ++i) h << "<td>" << number(s[i].value) << "</td>";
      h << "</tr></table>";
    }
  }
  h << "</div>";
  return h.str();
}

const ClassReport* find_class(const Report* r, const std::string& name) {
  if (!r) return nullptr;
  for (const auto& c : r->classes)
    if (c.name == name) return &c;
  return nullptr;
}

std::string value_cell(double v, int digits = 3) {
  return "<td data-v=\"" + (v < 0 || std::isnan(v) ? std::string("-1") : number(v, 6)) + "\"" +
         (v < 0 ? " class=\"undef\"" : "") + ">" + number(v, digits) + "</td>";
}

std::string count_cell(size_t n) { return "<td data-v=\"" + std::to_string(n) + "\">" + thousands(n) + "</td>"; }

std::string class_table(const ReportData& d) {
  const Report* op = d.coco ? d.coco : d.voc ? d.voc : d.voc07;  // the best-F1 point's protocol
  std::ostringstream h;
  h << "<table class=\"sortable\" id=\"class-table\"><thead><tr><th class=\"name\" data-key=\"class\">class</th>";
  if (d.coco) h << "<th data-key=\"ap\">AP</th><th data-key=\"ap50\">AP50</th><th data-key=\"ap75\">AP75</th>";
  if (d.voc) h << "<th data-key=\"voc\">VOC AP</th>";
  if (d.voc07) h << "<th data-key=\"voc07\">VOC07 AP</th>";
  h << "<th>GT</th><th>dets</th><th>TP</th><th>FP</th><th>P</th><th>R</th><th>F1</th><th>score</th></tr></"
       "thead><tbody>";
  for (const ClassReport& c : op->classes) {
    h << "<tr><td class=\"name\">" << html_escape(c.name) << "</td>";
    if (d.coco) h << value_cell(c.ap) << value_cell(c.ap50) << value_cell(c.ap75);
    if (const ClassReport* v = find_class(d.voc, c.name)) h << value_cell(v->ap);
    if (const ClassReport* v = find_class(d.voc07, c.name)) h << value_cell(v->ap);
    h << count_cell(c.gt) << count_cell(c.detections) << count_cell(c.tp) << count_cell(c.fp);
    const bool any = c.best_f1 > 0;
    h << value_cell(any ? c.best_f1_precision : -1) << value_cell(any ? c.best_f1_recall : -1)
      << value_cell(c.gt ? c.best_f1 : -1) << value_cell(any ? c.best_f1_score : -1) << "</tr>";
  }
  h << "</tbody></table><p class=\"note\">Click a column to sort. TP and FP over all detections, P / R / F1 at the "
       "class's best-F1 score ("
    << html_escape(op->protocol.name()) << (op->protocol.kind == ProtocolKind::kCoco ? ", IoU 0.5" : "") << ").</p>";
  return h.str();
}

// The ground truth and detections the protocols evaluated: the class subset and the score threshold.
void restrict_to_protocol(const Protocol& p, data::Dataset& gt, std::vector<data::Detection>& dets) {
  std::vector<char> keep(gt.classes.size(), p.classes.empty());
  for (const auto& name : p.classes)
    if (const int k = gt.class_index(name); k >= 0) keep[static_cast<size_t>(k)] = 1;
  for (auto& im : gt.images) {
    std::vector<data::Object> objects;
    for (const auto& o : im.objects)
      if (o.label < 0 || static_cast<size_t>(o.label) >= keep.size() || keep[static_cast<size_t>(o.label)])
        objects.push_back(o);
    im.objects.swap(objects);
  }
  std::vector<data::Detection> kept;
  for (const auto& d : dets)
    if (d.score >= p.score_threshold &&
        (d.label < 0 || static_cast<size_t>(d.label) >= keep.size() || keep[static_cast<size_t>(d.label)]))
      kept.push_back(d);
  dets.swap(kept);
}

}  // namespace

std::string html_report(const std::vector<Report>& reports, const data::Dataset& ground_truth,
                        const std::vector<data::Detection>& detections, const HtmlReportOptions& o) {
  if (reports.empty()) throw std::invalid_argument("html report: no evaluation to report");
  data::Dataset gt = ground_truth;
  std::vector<data::Detection> dets = detections;
  restrict_to_protocol(reports.front().protocol, gt, dets);
  ReportData d;
  for (const Report& r : reports) {
    if (r.protocol.kind == ProtocolKind::kCoco) d.coco = &r;
    if (r.protocol.kind == ProtocolKind::kVoc) d.voc = &r;
    if (r.protocol.kind == ProtocolKind::kVoc07) d.voc07 = &r;
  }
  d.gt = &gt;
  d.dets = &dets;
  d.errors = analyze_errors(gt, dets, o.errors);
  d.curves = score_curves(gt, dets, o.errors);
  d.sweep = sweep_thresholds(d.curves);
  ConfusionOptions co;
  co.score_threshold = d.sweep.best_threshold();
  co.iou_threshold = o.confusion_iou;
  d.confusion = confusion_matrix(gt, dets, co);

  std::ostringstream h;
  h << detail::page_head("cvtk evaluation: " + reports.front().ground_truth);
  const Report* main_report = d.coco ? d.coco : &reports.front();
  h << "<h1>cvtk evaluation &mdash; "
    << html_escape(main_report->summary.empty() ? "" : main_report->summary.front().name) << " "
    << number(main_report->headline()) << " (" << html_escape(main_report->protocol.name()) << ")"
    << "</h1>\n<pre id=\"js-errors\"></pre>\n<div class=\"top\">" << context(reports, d, o) << headline(d)
    << "</div>\n<h2 id=\"classes\">Per class</h2>\n"
    << class_table(d) << "\n";
  h << detail::curves_section(d) << detail::confusion_section(d) << detail::errors_section(d);
  h << "<h2 id=\"gallery\">Gallery</h2>\n" << gallery_html(gt, dets, d.errors, o.gallery);
  h << detail::page_tail();
  return h.str();
}

}  // namespace cvtk::metrics

// The report's error sections: the confusion matrix, TIDE's breakdown and AP by object size.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "metrics/html_escape.h"
#include "metrics/report_sections.h"
#include "metrics/svg_plot.h"

namespace cvtk::metrics::detail {
namespace {

const char* const kTypeColour[kErrorTypes] = {"#e15759", "#f28e2b", "#b07aa1", "#76b7b2", "#4e79a7", "#59a14f"};
const char* const kTypeMeaning[kErrorTypes] = {"right box (IoU &ge; t<sub>f</sub>), wrong class",
                                               "right class, box IoU in [t<sub>b</sub>, t<sub>f</sub>)",
                                               "wrong class and poor box",
                                               "a second detection of an object already found",
                                               "on background (IoU &le; t<sub>b</sub> with every object)",
                                               "an object no detection found or nearly found"};

// One matrix as a table; cells shaded by the row-normalised value.
std::string matrix_table(const ConfusionMatrix& cm, bool normalised) {
  const size_t K = cm.classes.size();
  std::ostringstream h;
  h << "<table class=\"cm\"><thead><tr><th class=\"name\">ground truth \\ predicted</th>";
  for (size_t c = 0; c < K; ++c) h << "<th class=\"name\">" << html_escape(cm.classes[c]) << "</th>";
  h << "<th class=\"name\"><i>missed</i></th></tr></thead><tbody>";
  for (size_t r = 0; r <= K; ++r) {
    h << "<tr><th class=\"name\">" << (r == K ? "<i>spurious</i>" : html_escape(cm.classes[r])) << "</th>";
    for (size_t c = 0; c <= K; ++c) {
      if (r == K && c == K) {
        h << "<td class=\"undef\">&ndash;</td>";
        continue;
      }
      const double v = cm.normalized[r][c];
      const bool diagonal = r == c;
      char style[96];
      std::snprintf(style, sizeof style, " style=\"background:rgba(%s,%.2f)\"", diagonal ? "44,160,44" : "214,39,40",
                    std::min(1.0, v) * 0.75);
      h << "<td" << (v > 0 ? style : "") << ">";
      if (normalised)
        h << number(v, 2);
      else
        h << cm.counts[r][c];
      h << "</td>";
    }
    h << "</tr>";
  }
  h << "</tbody></table>";
  return h.str();
}

std::string tide_table(const ErrorBreakdown& b) {
  std::ostringstream h;
  h << "<table class=\"sortable\" id=\"tide-table\"><thead><tr><th class=\"name\">class</th><th>AP50</th>";
  for (size_t t = 0; t < kErrorTypes; ++t) h << "<th>" << error_type_name(static_cast<ErrorType>(t)) << "</th>";
  h << "<th>FalsePos</th><th>FalseNeg</th>";
  for (size_t t = 0; t < kErrorTypes; ++t) h << "<th>#" << error_type_name(static_cast<ErrorType>(t)) << "</th>";
  h << "</tr></thead><tbody>";
  auto cell = [](double v) { return "<td data-v=\"" + number(v, 6) + "\">" + number(100 * v, 2) + "</td>"; };
  for (const ClassErrors& c : b.classes) {
    h << "<tr><td class=\"name\">" << html_escape(c.name) << "</td><td data-v=\"" << (c.ap < 0 ? -1 : c.ap) << "\">"
      << number(100 * c.ap, 2) << "</td>";
    for (size_t t = 0; t < kErrorTypes; ++t) h << cell(c.ap < 0 ? -1 : c.delta_ap[t]);
    h << cell(c.ap < 0 ? -1 : c.delta_ap_false_positives) << cell(c.ap < 0 ? -1 : c.delta_ap_false_negatives);
    for (size_t t = 0; t < kErrorTypes; ++t) h << "<td data-v=\"" << c.errors[t] << "\">" << c.errors[t] << "</td>";
    h << "</tr>";
  }
  h << "</tbody></table>";
  return h.str();
}

std::string tide(const ErrorBreakdown& b) {
  std::ostringstream h;
  h << "<h2 id=\"errors\">Error breakdown (TIDE)</h2>\n<p class=\"note\">Every false positive gets the first type "
       "whose rule holds (t<sub>f</sub> = "
    << number(b.options.foreground_iou, 2) << ", t<sub>b</sub> = " << number(b.options.background_iou, 2)
    << ", at most " << b.options.max_detections
    << " detections per image); &Delta;AP: what fixing every error of that type alone adds to the mean AP at "
       "IoU t<sub>f</sub> (baseline "
    << number(100 * b.ap, 2) << "; &times;100, as TIDE prints it).</p>\n<div class=\"plots\">";
  std::vector<BarItem> bars;
  double top = 0;
  for (size_t t = 0; t < kErrorTypes; ++t) top = std::max(top, b.delta_ap[t]);
  top = std::max({top, b.delta_ap_false_positives, b.delta_ap_false_negatives});
  for (size_t t = 0; t < kErrorTypes; ++t)
    bars.push_back({error_type_name(static_cast<ErrorType>(t)), b.delta_ap[t],
                    number(100 * b.delta_ap[t], 2) + "  (" + std::to_string(b.errors[t]) + ")", kTypeColour[t]});
  h << svg_bar_chart("ΔAP per error type (count)", bars, top, 440);
  h << svg_bar_chart("ΔAP if all false positives / negatives were fixed",
                     {{"FalsePos", b.delta_ap_false_positives, number(100 * b.delta_ap_false_positives, 2), "#999"},
                      {"FalseNeg", b.delta_ap_false_negatives, number(100 * b.delta_ap_false_negatives, 2), "#777"}},
                     top, 440);
  h << "</div>\n<table><thead><tr><th>type</th><th class=\"name\">meaning</th><th>count</th><th>&Delta;AP</th></tr>"
       "</thead><tbody>";
  for (size_t t = 0; t < kErrorTypes; ++t)
    h << "<tr><td>" << error_type_name(static_cast<ErrorType>(t)) << "</td><td class=\"name\">" << kTypeMeaning[t]
      << "</td><td>" << b.errors[t] << "</td><td>" << number(100 * b.delta_ap[t], 2) << "</td></tr>";
  h << "</tbody></table>\n<h3>Per class (&Delta;AP &times;100, then counts)</h3>\n" << tide_table(b) << "\n";
  return h.str();
}

std::string sizes(const ReportData& d) {
  std::ostringstream h;
  h << "<h2 id=\"sizes\">By object size</h2>\n";
  if (!d.coco) {
    h << "<p class=\"note\">AP by size comes from the COCO protocol (--protocol coco or all).</p>\n";
    return h.str();
  }
  const Report& r = *d.coco;
  // Ground truth per area range, as the protocol counts it (annotation area, crowd excluded).
  std::vector<size_t> count(r.protocol.area_ranges.size(), 0);
  for (const auto& im : d.gt->images)
    for (const auto& o : im.objects)
      for (size_t a = 0; a < r.protocol.area_ranges.size(); ++a)
        if (!o.crowd && o.effective_area() >= r.protocol.area_ranges[a].lo &&
            o.effective_area() <= r.protocol.area_ranges[a].hi)
          ++count[a];
  std::vector<BarItem> bars;
  const char* names[] = {"AP small", "AP medium", "AP large"};
  for (size_t i = 0; i < 3; ++i) {
    const SummaryNumber* s = r.find(names[i]);
    const double v = s ? s->value : -1;
    bars.push_back({names[i] + 3, std::max(0.0, v),
                    number(v) + "  (" + std::to_string(i + 1 < count.size() ? count[i + 1] : 0) + " GT)", "#4e79a7"});
  }
  h << "<div class=\"plots\">" << svg_bar_chart("COCO AP by object size (GT objects)", bars, 1.0, 440) << "</div>\n";
  h << "<table class=\"sortable\" id=\"size-table\"><thead><tr><th class=\"name\">class</th><th>AP small</th><th>AP "
       "medium</th><th>AP large</th><th>AP</th></tr></thead><tbody>";
  for (const auto& c : r.classes) {
    h << "<tr><td class=\"name\">" << html_escape(c.name) << "</td>";
    for (double v : {c.ap_small, c.ap_medium, c.ap_large, c.ap})
      h << "<td data-v=\"" << (v < 0 ? -1 : v) << "\">" << number(v) << "</td>";
    h << "</tr>";
  }
  h << "</tbody></table>\n<p class=\"note\">Area ranges (px&sup2;, by the annotation's area):";
  for (size_t a = 1; a < r.protocol.area_ranges.size(); ++a)
    h << " " << html_escape(r.protocol.area_ranges[a].name) << " [" << number(r.protocol.area_ranges[a].lo, 0) << ", "
      << (r.protocol.area_ranges[a].hi > 1e9 ? std::string("&infin;") : number(r.protocol.area_ranges[a].hi, 0)) << "]";
  h << "; &ndash;: no ground truth of that size.</p>\n";
  return h.str();
}

}  // namespace

std::string confusion_section(const ReportData& d) {
  const ConfusionMatrix& cm = d.confusion;
  std::ostringstream h;
  h << "<h2 id=\"confusion\">Confusion matrix</h2>\n<p class=\"note\">Detections with score &ge; "
    << number(cm.options.score_threshold, 3) << " (the operating point), each assigned to the unassigned object "
    << "of any class with the highest IoU &ge; " << number(cm.options.iou_threshold, 2)
    << ", highest scores first. Rows: ground-truth class, and <i>spurious</i> (detections that took no object); "
       "columns: predicted class, and <i>missed</i> (objects no detection took). "
    << cm.below_score_threshold << " detections below the threshold, " << cm.ignored_detections
    << " on ignored objects (crowd / difficult), left out.</p>\n<div class=\"plots\"><div><h3>Counts</h3>"
    << matrix_table(cm, false) << "</div><div><h3>Row-normalised</h3>" << matrix_table(cm, true) << "</div></div>\n";
  return h.str();
}

std::string errors_section(const ReportData& d) { return tide(d.errors) + sizes(d); }

}  // namespace cvtk::metrics::detail

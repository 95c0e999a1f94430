#include "metrics/dataset_report.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "metrics/html_escape.h"
#include "metrics/report_assets.h"
#include "metrics/svg_plot.h"

namespace cvtk::metrics {
namespace {

using detail::fixed;
using detail::now_utc;

std::string split_name(const data::SplitStats& s) { return s.split.empty() ? "(all)" : s.split; }

std::string summary_table(const std::vector<data::SplitStats>& stats) {
  std::ostringstream h;
  h << "<table><thead><tr><th class=\"name\">split</th><th>images</th><th>objects</th><th>empty images</th>"
       "<th>objects / image (median, max)</th><th>small</th><th>medium</th><th>large</th><th>box size median "
       "(px)</th></tr></thead><tbody>";
  for (const auto& s : stats)
    h << "<tr><td class=\"name\">" << html_escape(split_name(s)) << "</td><td>" << s.images << "</td><td>" << s.objects
      << "</td><td>" << s.empty_images << "</td><td>" << fixed(s.objects_per_image.median, 0) << ", "
      << fixed(s.objects_per_image.max, 0) << "</td><td>" << s.small << "</td><td>" << s.medium << "</td><td>"
      << s.large << "</td><td>" << fixed(s.size.median, 1) << "</td></tr>";
  h << "</tbody></table><p class=\"note\">small / medium / large: COCO's area ranges (box area below 32&sup2;, below "
       "96&sup2;, the rest); box size: the square root of the box area.</p>\n";
  return h.str();
}

std::string classes_section(const std::vector<data::SplitStats>& stats) {
  std::ostringstream h;
  h << "<h2 id=\"classes\">Objects per class</h2>\n<div class=\"plots\">";
  size_t top = 1;
  for (const auto& s : stats)
    for (const auto& c : s.classes) top = std::max(top, c.objects);
  for (const auto& s : stats) {
    std::vector<BarItem> bars;
    for (size_t k = 0; k < s.classes.size(); ++k)
      bars.push_back({s.classes[k].name, static_cast<double>(s.classes[k].objects),
                      std::to_string(s.classes[k].objects) + " in " + std::to_string(s.classes[k].images) + " images",
                      series_colour(k)});
    h << svg_bar_chart("split " + split_name(s) + ": objects (images) per class", bars, static_cast<double>(top), 460);
  }
  h << "</div>\n<table class=\"sortable\" id=\"class-table\"><thead><tr><th class=\"name\">class</th>";
  for (const auto& s : stats)
    h << "<th>" << html_escape(split_name(s)) << " objects</th><th>" << html_escape(split_name(s)) << " images</th>";
  h << "</tr></thead><tbody>";
  const size_t K = stats.front().classes.size();
  for (size_t k = 0; k < K; ++k) {
    h << "<tr><td class=\"name\">" << html_escape(stats.front().classes[k].name) << "</td>";
    for (const auto& s : stats) {
      const data::ClassStats c = k < s.classes.size() ? s.classes[k] : data::ClassStats{};
      h << "<td data-v=\"" << c.objects << "\">" << c.objects << "</td><td data-v=\"" << c.images << "\">" << c.images
        << "</td>";
    }
    h << "</tr>";
  }
  h << "</tbody></table>\n";
  return h.str();
}

// Normalised 2-D histograms of one split: box centres and box sizes. Returns the boxes left out.
size_t histograms(const data::Dataset& ds, int bins, std::vector<std::vector<size_t>>& centres,
                  std::vector<std::vector<size_t>>& sizes) {
  const size_t n = static_cast<size_t>(bins);
  centres.assign(n, std::vector<size_t>(n, 0));
  sizes.assign(n, std::vector<size_t>(n, 0));
  auto bin = [&](double v) { return std::min(n - 1, static_cast<size_t>(std::max(0.0, v) * bins)); };
  size_t skipped = 0;
  for (const auto& im : ds.images)
    for (const auto& o : im.objects) {
      if (im.width <= 0 || im.height <= 0) {
        ++skipped;
        continue;
      }
      const double w = im.width, h = im.height;
      // The centre plot's y axis runs from 1 (bottom) to 0 (top) and svg_heatmap's row 0 is the bin at
      // y_min, here 1: the rows count up from the image's bottom row.
      ++centres[n - 1 - bin((o.box.y1 + o.box.y2) / 2 / h)][bin((o.box.x1 + o.box.x2) / 2 / w)];
      ++sizes[bin(o.box.height() / h)][bin(o.box.width() / w)];
    }
  return skipped;
}

std::string box_section(const std::vector<data::Dataset>& splits, const std::vector<data::SplitStats>& stats,
                        const DatasetReportOptions& o) {
  std::ostringstream h;
  h << "<h2 id=\"boxes\">Where the boxes are, and how big</h2>\n";
  for (size_t i = 0; i < splits.size(); ++i) {
    std::vector<std::vector<size_t>> centres, sizes;
    const size_t skipped = histograms(splits[i], o.bins, centres, sizes);
    PlotOptions c;
    c.title = "split " + split_name(stats[i]) + ": box centres";
    c.x_label = "centre x / image width";
    c.y_label = "centre y / image height";
    c.y_min = 1, c.y_max = 0;  // image rows run down
    c.width = 300, c.height = 290;
    PlotOptions s = c;
    s.title = "split " + split_name(stats[i]) + ": box sizes";
    s.x_label = "box width / image width";
    s.y_label = "box height / image height";
    s.y_min = 0, s.y_max = 1;
    // Box size distribution: objects in 40 bins of sqrt(area) up to the largest.
    const auto& values = stats[i].size.values;
    const double top = values.empty() ? 1 : std::max(1.0, *std::max_element(values.begin(), values.end()));
    const size_t n_bins = 40;
    std::vector<double> x, y(n_bins, 0.0);
    for (double v : values) y[std::min(n_bins - 1, static_cast<size_t>(v / top * n_bins))] += 1;
    std::vector<double> sx, sy;
    for (size_t b = 0; b < n_bins; ++b) {
      sx.insert(sx.end(), {top * b / n_bins, top * (b + 1) / n_bins});
      sy.insert(sy.end(), {y[b], y[b]});
    }
    PlotOptions d;
    d.title = "split " + split_name(stats[i]) + ": box size";
    d.x_label = "sqrt(box area), px";
    d.y_label = "objects";
    d.x_max = nice_ceiling(top, d.ticks);
    d.y_max = nice_ceiling(*std::max_element(y.begin(), y.end()), d.ticks);
    d.width = 330, d.height = 290;
    h << "<div class=\"plots\">" << svg_heatmap(c, centres) << svg_heatmap(s, sizes)
      << svg_line_plot(d, {{"", sx, sy, "#4e79a7", 1.5, false}}) << "</div>\n";
    if (skipped)
      h << "<p class=\"note\">" << skipped << " boxes of images with an unknown size are not in the histograms.</p>\n";
  }
  return h.str();
}

std::string empty_section(const std::vector<data::Dataset>& splits, const std::vector<data::SplitStats>& stats) {
  std::ostringstream h;
  h << "<h2 id=\"empty\">Images without objects</h2>\n";
  for (size_t i = 0; i < splits.size(); ++i) {
    h << "<p><b>" << html_escape(split_name(stats[i])) << "</b>: " << stats[i].empty_images;
    size_t shown = 0;
    for (const auto& im : splits[i].images)
      if (im.objects.empty() && shown < 50) h << (shown++ ? ", " : " &mdash; ") << html_escape(im.name);
    if (stats[i].empty_images > shown) h << ", &hellip;";
    h << "</p>\n";
  }
  return h.str();
}

}  // namespace

std::string dataset_report_html(const std::vector<data::Dataset>& splits, const std::vector<data::SplitStats>& stats,
                                const DatasetReportOptions& o) {
  if (splits.empty() || splits.size() != stats.size())
    throw std::invalid_argument("dataset report: needs one statistics entry per split");
  std::ostringstream h;
  h << detail::page_head("cvtk dataset: " + o.source) << "<h1>cvtk dataset &mdash; " << html_escape(o.source)
    << "</h1>\n<pre id=\"js-errors\"></pre>\n<p class=\"note\">" << splits.front().classes.size() << " classes; made "
    << html_escape(o.created.empty() ? now_utc() : o.created) << ".</p>\n"
    << summary_table(stats) << classes_section(stats) << box_section(splits, stats, o) << empty_section(splits, stats)
    << detail::page_tail();
  return h.str();
}

}  // namespace cvtk::metrics

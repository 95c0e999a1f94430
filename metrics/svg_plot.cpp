#include "metrics/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "metrics/html_escape.h"

namespace cvtk::metrics {
namespace {

// Margins of the plot area inside the SVG: room for the title above, tick labels and the axis label
// below and to the left.
constexpr double kLeft = 46, kRight = 12, kTop = 26, kBottom = 40;

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

double clamp_to(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

void axes(std::ostringstream& s, const PlotOptions& o, const PlotFrame& f) {
  const double bottom = f.top + f.height, right = f.left + f.width;
  for (int i = 0; i <= o.ticks; ++i) {
    const double t = static_cast<double>(i) / o.ticks;
    const double xv = o.x_min + t * (o.x_max - o.x_min), yv = o.y_min + t * (o.y_max - o.y_min);
    const double x = f.px(xv), y = f.py(yv);
    s << "<line x1=\"" << num(x) << "\" y1=\"" << num(f.top) << "\" x2=\"" << num(x) << "\" y2=\"" << num(bottom)
      << "\" class=\"grid\"/><line x1=\"" << num(f.left) << "\" y1=\"" << num(y) << "\" x2=\"" << num(right)
      << "\" y2=\"" << num(y) << "\" class=\"grid\"/>";
    s << "<line x1=\"" << num(x) << "\" y1=\"" << num(bottom) << "\" x2=\"" << num(x) << "\" y2=\"" << num(bottom + 4)
      << "\" class=\"axis\"/><text x=\"" << num(x) << "\" y=\"" << num(bottom + 15)
      << "\" text-anchor=\"middle\" class=\"tick\">" << tick_label(xv) << "</text>";
    s << "<line x1=\"" << num(f.left - 4) << "\" y1=\"" << num(y) << "\" x2=\"" << num(f.left) << "\" y2=\"" << num(y)
      << "\" class=\"axis\"/><text x=\"" << num(f.left - 6) << "\" y=\"" << num(y + 3.5)
      << "\" text-anchor=\"end\" class=\"tick\">" << tick_label(yv) << "</text>";
  }
  s << "<rect x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\"" << num(f.width) << "\" height=\""
    << num(f.height) << "\" class=\"frame\"/>";
  s << "<text x=\"" << num(f.left + f.width / 2) << "\" y=\"" << num(bottom + 32)
    << "\" text-anchor=\"middle\" class=\"label\">" << html_escape(o.x_label) << "</text>";
  s << "<text transform=\"translate(12 " << num(f.top + f.height / 2)
    << ") rotate(-90)\" text-anchor=\"middle\" class=\"label\">" << html_escape(o.y_label) << "</text>";
  s << "<text x=\"" << num(f.left) << "\" y=\"16\" class=\"title\">" << html_escape(o.title) << "</text>";
}

void polyline(std::ostringstream& s, const PlotFrame& f, const PlotSeries& line) {
  std::string points;
  auto flush = [&] {
    if (points.empty()) return;
    s << "<polyline fill=\"none\" stroke=\"" << html_escape(line.colour) << "\" stroke-width=\"" << num(line.width)
      << "\"" << (line.dashed ? " stroke-dasharray=\"5 3\"" : "") << " points=\"" << points << "\"/>";
    points.clear();
  };
  for (size_t i = 0; i < line.x.size() && i < line.y.size(); ++i) {
    if (std::isnan(line.x[i]) || std::isnan(line.y[i])) {
      flush();
      continue;
    }
    points += (points.empty() ? "" : " ") + num(f.px(line.x[i])) + "," + num(f.py(line.y[i]));
  }
  flush();
}

// Legend entries shown: at most max_legend, and one "+ N more" entry when some are left out.
size_t legend_entries(const PlotOptions& o, const std::vector<PlotSeries>& series) {
  size_t n = 0;
  for (const auto& l : series) n += !l.label.empty();
  return n > o.max_legend ? o.max_legend + 1 : n;
}

constexpr double kLegendRow = 13, kLegendColumn = 150;

size_t legend_columns(const PlotOptions& o) {
  return static_cast<size_t>(std::max(1, static_cast<int>((o.width - 8) / kLegendColumn)));
}

// Below the axes, in columns, so it never covers a curve.
double legend_height(const PlotOptions& o, const std::vector<PlotSeries>& series) {
  const size_t n = legend_entries(o, series), columns = legend_columns(o);
  return n == 0 ? 0 : static_cast<double>((n + columns - 1) / columns) * kLegendRow + 6;
}

void legend(std::ostringstream& s, const PlotOptions& o, const std::vector<PlotSeries>& series) {
  std::vector<const PlotSeries*> entries;
  for (const auto& l : series)
    if (!l.label.empty()) entries.push_back(&l);
  const size_t shown = std::min(entries.size(), o.max_legend), n = legend_entries(o, series);
  const size_t columns = legend_columns(o);
  for (size_t i = 0; i < n; ++i) {
    const double x = 8 + kLegendColumn * static_cast<double>(i % columns);
    const double y = o.height + kLegendRow * static_cast<double>(i / columns) + kLegendRow / 2 - 2;
    if (i == shown) {
      s << "<text x=\"" << num(x) << "\" y=\"" << num(y + 3.5) << "\" class=\"tick\">+ " << entries.size() - shown
        << " more</text>";
      break;
    }
    const PlotSeries& l = *entries[i];
    s << "<line x1=\"" << num(x) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x + 18) << "\" y2=\"" << num(y)
      << "\" stroke=\"" << html_escape(l.colour) << "\" stroke-width=\"2\""
      << (l.dashed ? " stroke-dasharray=\"5 3\"" : "") << "/><text x=\"" << num(x + 23) << "\" y=\"" << num(y + 3.5)
      << "\" class=\"tick\">" << html_escape(l.label) << "</text>";
  }
}

}  // namespace

double PlotFrame::px(double x) const {
  const double t = x_max != x_min ? (x - x_min) / (x_max - x_min) : 0;
  return left + clamp_to(t, 0, 1) * width;
}

double PlotFrame::py(double y) const {
  const double t = y_max != y_min ? (y - y_min) / (y_max - y_min) : 0;
  return top + height - clamp_to(t, 0, 1) * height;
}

PlotFrame plot_frame(const PlotOptions& o) {
  PlotFrame f;
  f.left = kLeft;
  f.top = kTop;
  f.width = std::max(10.0, o.width - kLeft - kRight);
  f.height = std::max(10.0, o.height - kTop - kBottom);
  f.x_min = o.x_min, f.x_max = o.x_max, f.y_min = o.y_min, f.y_max = o.y_max;
  return f;
}

double nice_ceiling(double value, int ticks) {
  if (!(value > 0) || ticks < 1) return 1;
  const double raw = value / ticks, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * magnitude * (1 + 1e-12) >= raw) return m * magnitude * ticks;
  return 10 * magnitude * ticks;
}

std::string tick_label(double value) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", value);
  std::string s = b;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string svg_line_plot(const PlotOptions& o, const std::vector<PlotSeries>& series,
                          const std::vector<PlotMarker>& markers) {
  const PlotFrame f = plot_frame(o);
  const int height = o.height + static_cast<int>(std::ceil(legend_height(o, series)));
  std::ostringstream s;
  s << "<svg class=\"plot\" width=\"" << o.width << "\" height=\"" << height << "\" viewBox=\"0 0 " << o.width << " "
    << height << "\" role=\"img\"><title>" << html_escape(o.title) << "</title>";
  axes(s, o, f);
  for (const auto& line : series) polyline(s, f, line);
  for (const auto& m : markers) {
    const double x = f.px(m.x), y = f.py(m.y);
    if (m.vertical)
      s << "<line x1=\"" << num(x) << "\" y1=\"" << num(f.top + f.height) << "\" x2=\"" << num(x) << "\" y2=\""
        << num(f.top) << "\" stroke=\"" << html_escape(m.colour) << "\" stroke-dasharray=\"2 2\"/>";
    s << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"4.5\" fill=\"none\" stroke=\""
      << html_escape(m.colour) << "\" stroke-width=\"2\"/>";
    if (!m.label.empty()) {
      const bool right_half = x > f.left + f.width * 0.6;
      s << "<text x=\"" << num(right_half ? x - 7 : x + 7) << "\" y=\"" << num(std::max(y - 7, f.top + 10))
        << "\" text-anchor=\"" << (right_half ? "end" : "start") << "\" class=\"mark\">" << html_escape(m.label)
        << "</text>";
    }
  }
  legend(s, o, series);
  s << "</svg>";
  return s.str();
}

std::string svg_heatmap(const PlotOptions& o, const std::vector<std::vector<size_t>>& counts) {
  const PlotFrame f = plot_frame(o);
  size_t top = 0;
  for (const auto& r : counts)
    for (size_t v : r) top = std::max(top, v);
  std::ostringstream s;
  s << "<svg class=\"plot\" width=\"" << o.width << "\" height=\"" << o.height + 14 << "\" viewBox=\"0 0 " << o.width
    << " " << o.height + 14 << "\" role=\"img\"><title>" << html_escape(o.title) << "</title>";
  const size_t rows = counts.size(), cols = rows ? counts.front().size() : 0;
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols && c < counts[r].size(); ++c) {
      if (counts[r][c] == 0) continue;
      // Data cell [c, c + 1) x [r, r + 1) in bin units of the axes' ranges.
      const double x0 = o.x_min + (o.x_max - o.x_min) * c / cols, x1 = o.x_min + (o.x_max - o.x_min) * (c + 1) / cols;
      const double y0 = o.y_min + (o.y_max - o.y_min) * r / rows, y1 = o.y_min + (o.y_max - o.y_min) * (r + 1) / rows;
      const double px = std::min(f.px(x0), f.px(x1)), py = std::min(f.py(y0), f.py(y1));
      char fill[64];
      std::snprintf(fill, sizeof fill, "rgba(31,80,180,%.3f)",
                    0.08 + 0.92 * std::sqrt(static_cast<double>(counts[r][c]) / static_cast<double>(top)));
      s << "<rect x=\"" << num(px) << "\" y=\"" << num(py) << "\" width=\"" << num(std::fabs(f.px(x1) - f.px(x0)))
        << "\" height=\"" << num(std::fabs(f.py(y1) - f.py(y0))) << "\" fill=\"" << fill << "\"><title>" << counts[r][c]
        << "</title></rect>";
    }
  axes(s, o, f);
  s << "<text x=\"8\" y=\"" << o.height + 8 << "\" class=\"tick\">darkest cell: " << top << " boxes</text></svg>";
  return s.str();
}

std::string svg_bar_chart(const std::string& title, const std::vector<BarItem>& items, double max_value, int width) {
  if (max_value <= 0)
    for (const auto& it : items) max_value = std::max(max_value, it.value);
  if (max_value <= 0) max_value = 1;
  const double label_w = 90, text_w = 120, row_h = 20, top = 24;
  const double bar_w = std::max(40.0, width - label_w - text_w);
  const int height = static_cast<int>(top + row_h * items.size() + 6);
  std::ostringstream s;
  s << "<svg class=\"plot\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " "
    << height << "\" role=\"img\"><title>" << html_escape(title) << "</title><text x=\"0\" y=\"16\" class=\"title\">"
    << html_escape(title) << "</text>";
  for (size_t i = 0; i < items.size(); ++i) {
    const BarItem& it = items[i];
    const double y = top + row_h * i, len = bar_w * clamp_to(it.value / max_value, 0, 1);
    s << "<text x=\"" << num(label_w - 6) << "\" y=\"" << num(y + 14) << "\" text-anchor=\"end\" class=\"tick\">"
      << html_escape(it.label) << "</text><rect x=\"" << num(label_w) << "\" y=\"" << num(y + 3) << "\" width=\""
      << num(len) << "\" height=\"" << num(row_h - 6) << "\" fill=\"" << html_escape(it.colour) << "\"/><text x=\""
      << num(label_w + len + 5) << "\" y=\"" << num(y + 14) << "\" class=\"tick\">" << html_escape(it.text)
      << "</text>";
  }
  s << "</svg>";
  return s.str();
}

const char* series_colour(size_t index) {
  static const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kPalette[index % 10];
}

}  // namespace cvtk::metrics

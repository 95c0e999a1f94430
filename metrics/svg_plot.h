#pragma once
// Small inline SVG charts for the HTML report: line plots with labelled axes and horizontal bar charts.
// The output is an <svg> element (text to paste into a page); every string given is HTML-escaped.
//
// Coordinates: data values map linearly onto the plot area, x_min at its left edge and x_max at its right,
// y_min at its bottom and y_max at its top (SVG's y grows downwards; PlotFrame does the flip); a range
// given backwards (min > max) runs the other way. Values
// outside [min, max] are clamped to the frame's edge, so a curve never draws over the axes.
#include <cstddef>
#include <string>
#include <vector>

namespace cvtk::metrics {

// The plot area inside the SVG, in SVG pixels, and the data ranges it shows.
struct PlotFrame {
  double left = 0, top = 0, width = 0, height = 0;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;

  double px(double x) const;  // data x -> SVG x, clamped to [left, left + width]
  double py(double y) const;  // data y -> SVG y, clamped to [top, top + height]
};

struct PlotSeries {
  std::string label;         // legend entry; empty: none
  std::vector<double> x, y;  // data coordinates; a point with a NaN coordinate breaks the line there
  std::string colour = "#1f77b4";
  double width = 1.5;  // stroke, SVG px
  bool dashed = false;
};

// A point drawn as a ring with an optional label (e.g. the chosen operating point); with vertical set,
// also a dotted line from the bottom axis up to it.
struct PlotMarker {
  double x = 0, y = 0;
  std::string label;
  std::string colour = "#d62728";
  bool vertical = false;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  int ticks = 5;                  // intervals per axis: ticks + 1 labelled ticks, grid lines between
  int width = 330, height = 270;  // the SVG without its legend, px; the legend adds rows below
  size_t max_legend = 10;         // legend entries drawn; the rest are summarised as "+ N more"
};

// The frame svg_line_plot draws into for these options (margins for the title, ticks and labels).
PlotFrame plot_frame(const PlotOptions& options);

// The smallest ticks x step >= value with step one of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k, so every
// tick label is short (290 with 5 ticks: 300, ticks of 60). 1 for a value <= 0.
double nice_ceiling(double value, int ticks);

// "0", "0.2", "0.25", "1": a tick value with at most two decimals and no trailing zeros.
std::string tick_label(double value);

std::string svg_line_plot(const PlotOptions& options, const std::vector<PlotSeries>& series,
                          const std::vector<PlotMarker>& markers = {});

// A 2-D histogram: counts[r][c] is the bin [x_min + c dx, x_min + (c + 1) dx) x [y_min + r dy, ...),
// dx = (x_max - x_min) / columns, dy likewise; darker is more (opacity grows with the square root of the
// count, so sparse bins stay visible beside a dense one). A range may run backwards (y_min = 1,
// y_max = 0 puts 0 at the top, as image rows run). Hovering a cell shows its count.
std::string svg_heatmap(const PlotOptions& options, const std::vector<std::vector<size_t>>& counts);

struct BarItem {
  std::string label;  // left of the bar
  double value = 0;   // bar length in units of the chart's max_value; negative values draw as 0
  std::string text;   // right of the bar (the value as it should read, with counts)
  std::string colour = "#4e79a7";
};

// One bar per item, top to bottom, all scaled to max_value (<= 0: the largest value).
std::string svg_bar_chart(const std::string& title, const std::vector<BarItem>& items, double max_value,
                          int width = 420);

// The report's class colours: a fixed palette, cycling.
const char* series_colour(size_t index);

}  // namespace cvtk::metrics

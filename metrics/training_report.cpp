// The training report's reading of a run directory and its page (training_report.h).
#include "metrics/training_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "metrics/base64.h"
#include "metrics/html_escape.h"
#include "metrics/report_assets.h"
#include "metrics/svg_plot.h"
#include "vision/data/file_util.h"

namespace cvtk::metrics {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uintmax_t kMaxImageBytes = 4u << 20;

// ordered_json: the fields keep the file's order, which is the trainer's (train_log.h).
void add_row(TrainingRun& run, const nlohmann::ordered_json& row) {
  for (const auto& [key, value] : row.items()) {
    if (!value.is_number()) continue;
    auto [it, inserted] = run.fields.try_emplace(key, std::vector<double>(run.rows, kNaN));
    if (inserted) run.field_order.push_back(key);
    it->second.push_back(value.get<double>());
  }
  ++run.rows;
  for (auto& [key, values] : run.fields) values.resize(run.rows, kNaN);
}

void read_results(TrainingRun& run) {
  const fs::path file = run.dir / "results.jsonl";
  if (!fs::exists(file))
    throw std::runtime_error(file.string() + ": not found (is this a cvtk train output directory?)");
  const std::string text = data::read_file(file);
  size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    const bool terminated = end != std::string::npos;
    if (!terminated) end = text.size();
    const std::string content = text.substr(start, end - start);
    start = end + 1;
    if (content.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::ordered_json row = nlohmann::ordered_json::parse(content, nullptr, false);
    if (!row.is_discarded() && row.is_object()) {
      add_row(run, row);
    } else if (!terminated) {
      run.skipped_last_line = "line " + std::to_string(line) + " is incomplete (the run stopped while writing it)";
    } else {
      throw std::runtime_error(file.string() + ":" + std::to_string(line) + ": not a JSON object of epoch figures");
    }
  }
}

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

const std::vector<double>* field(const TrainingRun& run, const std::string& name) {
  auto it = run.fields.find(name);
  return it == run.fields.end() ? nullptr : &it->second;
}

// A validation figure of -1 marks an epoch that did not validate.
double defined(double v) { return v < 0 ? kNaN : v; }

// A figure of the field `name` as the page shows it: counts whole, the rest to 4 significant digits.
std::string figure_text(double v, const std::string& name) {
  if (std::isnan(v)) return "&ndash;";
  char b[32];
  const bool integral = name == "epoch" || name == "steps" || name == "empty_images";
  std::snprintf(b, sizeof b, integral ? "%.0f" : "%.4g", v);
  return b;
}

struct Chart {
  std::string title, y_label;
  std::vector<std::string> names;
  bool unit_range = false;  // validation figures: 0..1 whatever the values
};

std::string chart_svg(const TrainingRun& run, const Chart& c, int best_row) {
  const std::vector<double>& epochs = *field(run, "epoch");
  double last_epoch = 1, top = 0;
  for (double e : epochs)
    if (std::isfinite(e)) last_epoch = std::max(last_epoch, e);
  std::vector<PlotSeries> series;
  for (size_t i = 0; i < c.names.size(); ++i) {
    const std::vector<double>* values = field(run, c.names[i]);
    if (values == nullptr) continue;
    PlotSeries s{c.names[i], epochs, {}, series_colour(i)};
    for (double v : *values) s.y.push_back(c.unit_range ? defined(v) : v);
    for (double v : s.y)
      if (std::isfinite(v)) top = std::max(top, v);
    series.push_back(std::move(s));
  }
  if (series.empty()) return "";
  PlotOptions o;
  o.title = c.title;
  o.x_label = "epoch";
  // Whole-epoch ticks at a round step: at most 6 intervals.
  double step = 1;
  for (int k = 0; last_epoch / step > 6; ++k) step = (k % 3 == 1 ? 2.5 : 2) * step;  // 1 2 5 10 20 50 ...
  o.ticks = static_cast<int>(std::ceil(last_epoch / step));
  o.x_max = o.ticks * step;
  o.y_label = c.y_label;
  o.y_max = c.unit_range ? 1.0 : nice_ceiling(top, o.ticks);
  o.width = 380;
  // Tick labels carry two decimals: a small range (a learning rate) is drawn scaled, the scale named.
  if (!c.unit_range && o.y_max < 0.5) {
    const int exponent = static_cast<int>(std::floor(std::log10(o.y_max)));
    const double scale = std::pow(10.0, -exponent);
    for (PlotSeries& s : series)
      for (double& v : s.y) v *= scale;
    o.y_max *= scale;
    o.y_label += " (x 1e" + std::to_string(exponent) + ")";
  }
  std::vector<PlotMarker> markers;
  // A point without a defined neighbour (a one-epoch run, or validation every other epoch, whose
  // gaps leave every point alone) is no line segment, which a line does not show: a ring instead.
  for (const PlotSeries& s : series)
    for (size_t i = 0; i < s.y.size(); ++i) {
      const bool before = i > 0 && std::isfinite(s.y[i - 1]), after = i + 1 < s.y.size() && std::isfinite(s.y[i + 1]);
      if (std::isfinite(s.y[i]) && !before && !after) markers.push_back({epochs[i], s.y[i], "", s.colour, false});
    }
  if (c.unit_range && best_row >= 0)
    markers.push_back({epochs[static_cast<size_t>(best_row)], series.front().y[static_cast<size_t>(best_row)], "best",
                       "#d62728", true});
  return svg_line_plot(o, series, markers);
}

std::vector<std::string> names_where(const TrainingRun& run, bool (*keep)(const std::string&)) {
  std::vector<std::string> out;
  for (const std::string& n : run.field_order)
    if (keep(n)) out.push_back(n);
  return out;
}

std::string charts(const TrainingRun& run, int best_row) {
  std::vector<Chart> list = {
      {"Training loss", "loss",
       names_where(
           run,
           [](const std::string& n) { return n == "loss" || n.rfind("rpn_", 0) == 0 || n.rfind("rcnn_", 0) == 0; })},
      {"Learning rate", "lr", {"lr"}},
      {"Validation", "figure", names_where(run, [](const std::string& n) { return n.rfind("val_", 0) == 0; }), true},
      {"Throughput", "images / s", {"images_per_s"}},
      {"Peak memory", "MB", {"peak_mb"}},
  };
  std::ostringstream h;
  h << "<div class=\"plots\">";
  for (const Chart& c : list) h << chart_svg(run, c, best_row);
  h << "</div>\n";
  return h.str();
}

std::string headline(const TrainingRun& run, int best_row) {
  std::ostringstream h;
  auto card = [&](const std::string& value, const std::string& label) {
    h << "<div class=\"card\"><b>" << value << "</b><span>" << label << "</span></div>";
  };
  const std::vector<double>& epochs = *field(run, "epoch");
  h << "<div class=\"cards\">";
  card(figure_text(epochs.back(), "epoch"), "epochs done");
  if (best_row >= 0) {
    const auto b = static_cast<size_t>(best_row);
    card(figure_text(epochs[b], "epoch"), "best epoch");
    for (const char* name : {"val_coco_ap", "val_map50"})
      if (const auto* v = field(run, name)) card(figure_text(defined((*v)[b]), name), std::string(name) + " (best)");
  }
  if (const auto* v = field(run, "seconds")) {
    double total = 0;
    for (double s : *v)
      if (std::isfinite(s)) total += s;
    card(figure_text(total / 60, "minutes"), "minutes");
  }
  h << "</div>\n";
  return h.str();
}

std::string epoch_table(const TrainingRun& run, int best_row) {
  std::ostringstream h;
  h << "<div style=\"overflow-x:auto\"><table class=\"sortable\" id=\"epoch-table\"><thead><tr>";
  for (const std::string& n : run.field_order)
    h << "<th data-key=\"" << html_escape(n) << "\">" << html_escape(n) << "</th>";
  h << "</tr></thead><tbody>\n";
  for (size_t r = 0; r < run.rows; ++r) {
    h << (static_cast<int>(r) == best_row ? "<tr style=\"background:#fff4d6\">" : "<tr>");
    for (const std::string& n : run.field_order) {
      const double v = run.fields.at(n)[r];
      h << "<td data-v=\"" << (std::isnan(v) ? -1e300 : v) << "\">" << figure_text(v, n) << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody></table></div>\n";
  return h.str();
}

std::string images(const TrainingRun& run) {
  std::ostringstream h;
  for (const fs::path& p : run.images) {
    const std::string name = html_escape(p.lexically_relative(run.dir).string());
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(p, ec);
    std::string bytes, problem = ec ? "cannot be read" : size > kMaxImageBytes ? "larger than 4 MB" : "";
    if (problem.empty()) {
      try {
        bytes = data::read_file(p);
      } catch (const std::exception&) {
        problem = "cannot be read";  // an image never fails the report
      }
    }
    h << "<h3>" << name << "</h3>\n";
    if (!problem.empty()) {
      h << "<p class=\"warn\">not embedded: " << problem << "</p>\n";
      continue;
    }
    const bool png = p.extension() == ".png" || p.extension() == ".PNG";
    h << "<img style=\"max-width:100%\" alt=\"" << name << "\" src=\"data:image/" << (png ? "png" : "jpeg")
      << ";base64," << base64(bytes) << "\">\n";
  }
  return h.str();
}

}  // namespace

TrainingRun read_training_run(const fs::path& dir) {
  TrainingRun run;
  run.dir = dir;
  read_results(run);
  if (fs::exists(dir / "options.toml")) run.options_toml = data::read_file(dir / "options.toml");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && is_image(entry.path())) run.images.push_back(entry.path());
  std::sort(run.images.begin(), run.images.end());
  if (fs::is_regular_file(dir / "augmented" / "mosaic.jpg", ec)) run.images.push_back(dir / "augmented" / "mosaic.jpg");
  return run;
}

int best_epoch_row(const TrainingRun& run) {
  for (const char* name : {"val_map50", "val_coco_ap"}) {
    const std::vector<double>* v = field(run, name);
    if (v == nullptr) continue;
    int best = -1;
    for (size_t r = 0; r < v->size(); ++r)
      if (!std::isnan(defined((*v)[r])) && (best < 0 || (*v)[r] > (*v)[static_cast<size_t>(best)]))
        best = static_cast<int>(r);
    if (best >= 0) return best;
  }
  return -1;
}

std::string training_report_html(const TrainingRun& run) {
  std::ostringstream h;
  const std::string name =
      run.dir.filename().empty() ? run.dir.parent_path().filename().string() : run.dir.filename().string();
  h << detail::page_head("cvtk training: " + name) << "<h1>Training run " << html_escape(name)
    << "</h1>\n<p class=\"note\">" << html_escape(run.dir.string()) << ", " << run.rows
    << " epoch rows from results.jsonl</p>\n<pre id=\"js-errors\"></pre>\n";
  if (!run.skipped_last_line.empty())
    h << "<p class=\"warn\">results.jsonl: " << html_escape(run.skipped_last_line) << "</p>\n";
  if (run.rows == 0 || field(run, "epoch") == nullptr) {
    h << "<p>No epoch has completed yet.</p>\n";
  } else {
    const int best = best_epoch_row(run);
    h << headline(run, best) << charts(run, best) << "<h2>Epochs</h2>\n" << epoch_table(run, best);
  }
  if (!run.images.empty()) h << "<h2>Images</h2>\n" << images(run);
  if (!run.options_toml.empty())
    h << "<h2>Options</h2>\n<details><summary>options.toml</summary><pre>" << html_escape(run.options_toml)
      << "</pre></details>\n";
  h << detail::page_tail();
  return h.str();
}

fs::path write_training_report(const fs::path& dir) {
  const fs::path out = dir / "report.html";
  data::write_file_atomic(out, training_report_html(read_training_run(dir)));
  return out;
}

}  // namespace cvtk::metrics

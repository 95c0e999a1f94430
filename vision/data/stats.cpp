#include "vision/data/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

Distribution summarise(std::vector<double> v) {
  Distribution d;
  d.count = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[static_cast<size_t>(std::lround(p * (v.size() - 1)))]; };
  d.min = v.front();
  d.max = v.back();
  d.p10 = q(0.1);
  d.median = q(0.5);
  d.p90 = q(0.9);
  double s = 0;
  for (double x : v) s += x;
  d.mean = s / v.size();
  d.values = std::move(v);
  return d;
}

}  // namespace

SplitStats compute_stats(const Dataset& ds) {
  SplitStats st;
  st.split = ds.split;
  st.images = ds.images.size();
  st.classes.resize(ds.classes.size());
  std::vector<std::vector<double>> sizes(ds.classes.size()), aspects(ds.classes.size());
  std::vector<double> all_sizes, all_aspects, per_image;
  for (size_t k = 0; k < ds.classes.size(); ++k) st.classes[k].name = ds.classes[k];
  for (const ImageRecord& rec : ds.images) {
    per_image.push_back(static_cast<double>(rec.objects.size()));
    if (rec.objects.empty()) ++st.empty_images;
    std::vector<bool> has(ds.classes.size(), false);
    for (const Object& o : rec.objects) {
      ++st.objects;
      ClassStats& c = st.classes[o.label];
      ++c.objects;
      has[o.label] = true;
      const double area = o.effective_area();
      (area < 32 * 32 ? st.small : area < 96 * 96 ? st.medium : st.large)++;
      const double size = std::sqrt(o.box.area());
      sizes[o.label].push_back(size);
      all_sizes.push_back(size);
      if (o.box.height() > 0) {
        const double aspect = o.box.width() / o.box.height();
        aspects[o.label].push_back(aspect);
        all_aspects.push_back(aspect);
      }
    }
    for (size_t k = 0; k < has.size(); ++k) st.classes[k].images += has[k];
  }
  for (size_t k = 0; k < ds.classes.size(); ++k) {
    st.classes[k].size = summarise(std::move(sizes[k]));
    st.classes[k].aspect = summarise(std::move(aspects[k]));
  }
  st.size = summarise(std::move(all_sizes));
  st.aspect = summarise(std::move(all_aspects));
  st.objects_per_image = summarise(std::move(per_image));
  return st;
}

std::vector<std::string> list_splits(const fs::path& path) {
  std::vector<std::string> out;
  std::error_code ec;
  const Format f = detect_format(path);
  if (f == Format::kVoc && fs::is_directory(path / "ImageSets" / "Main", ec)) {
    for (const auto& e : fs::directory_iterator(path / "ImageSets" / "Main")) {
      const std::string stem = e.path().stem().string();
      // Per-class lists are <class>_<split>.txt; a split named with '_' is rare, so skip those.
      if (e.path().extension() == ".txt" && stem.find('_') == std::string::npos) out.push_back(stem);
    }
  } else if (f == Format::kYolo) {
    for (const auto& e : fs::directory_iterator(path / "images"))
      if (e.is_directory()) out.push_back(e.path().filename().string());
  } else if (f == Format::kCoco && fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path / "annotations")) {
      const std::string stem = e.path().stem().string();
      if (e.path().extension() == ".json" && stem.rfind("instances_", 0) == 0) out.push_back(stem.substr(10));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void print_stats(const SplitStats& st, std::ostream& out) {
  char line[256];
  out << "split " << (st.split.empty() ? "(all)" : st.split) << ": " << st.images << " images (" << st.empty_images
      << " without objects), " << st.objects << " objects; objects per image mean "
      << (st.objects_per_image.count ? std::to_string(st.objects_per_image.mean).substr(0, 5) : "0") << ", max "
      << st.objects_per_image.max << "\n";
  out << "  COCO area ranges: small " << st.small << ", medium " << st.medium << ", large " << st.large << "\n";
  size_t width = 5;
  for (const auto& c : st.classes) width = std::max(width, c.name.size());
  std::snprintf(line, sizeof line, "  %*s %7s %8s | %-31s | %s\n", int(width), "class", "images", "objects",
                "box size px: min  p10  med  p90  max", "aspect w/h: p10  med  p90");
  out << line;
  auto row = [&](const std::string& name, size_t images, size_t objects, const Distribution& s, const Distribution& a) {
    std::snprintf(line, sizeof line, "  %*s %7zu %8zu | %11.0f %4.0f %4.0f %4.0f %4.0f | %15.2f %4.2f %4.2f\n",
                  int(width), name.c_str(), images, objects, s.min, s.p10, s.median, s.p90, s.max, a.p10, a.median,
                  a.p90);
    out << line;
  };
  for (const auto& c : st.classes) row(c.name, c.images, c.objects, c.size, c.aspect);
  row("all", st.images - st.empty_images, st.objects, st.size, st.aspect);
}

namespace {

const cv::Scalar kInk(40, 40, 40), kGrid(220, 220, 220), kBar(180, 120, 40);

void text(cv::Mat& img, const std::string& s, cv::Point p, double scale = 0.4, cv::Scalar colour = kInk) {
  cv::putText(img, s, p, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

// A bar chart of values with labels under the bars, inside the rectangle r.
void bars(cv::Mat& img, cv::Rect r, const std::string& title, const std::vector<std::string>& labels,
          const std::vector<double>& values) {
  cv::rectangle(img, r, kGrid, 1);
  text(img, title, {r.x + 4, r.y - 6}, 0.45);
  const double top = std::max(1.0, *std::max_element(values.begin(), values.end()));
  const int n = static_cast<int>(values.size());
  if (n == 0) return;
  const int plot_h = r.height - 30;
  for (int g = 1; g <= 4; ++g) {
    const int y = r.y + plot_h - plot_h * g / 4;
    cv::line(img, {r.x, y}, {r.x + r.width, y}, kGrid, 1);
    char v[32];
    std::snprintf(v, sizeof v, "%.0f", top * g / 4);
    text(img, v, {r.x + 2, y - 2}, 0.3, cv::Scalar(120, 120, 120));
  }
  const double slot = double(r.width) / n;
  for (int i = 0; i < n; ++i) {
    const int h = static_cast<int>(plot_h * values[i] / top);
    const int x0 = r.x + static_cast<int>(i * slot + slot * 0.15),
              x1 = r.x + static_cast<int>((i + 1) * slot - slot * 0.15);
    cv::rectangle(img, cv::Rect(x0, r.y + plot_h - h, std::max(1, x1 - x0), h), kBar, cv::FILLED);
    if (!labels[i].empty()) {
      int base;
      const double scale = 0.33;
      cv::Size ts = cv::getTextSize(labels[i], cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
      text(img, labels[i], {(x0 + x1) / 2 - ts.width / 2, r.y + plot_h + 14}, scale);
    }
  }
}

void histogram(cv::Mat& img, cv::Rect r, const std::string& title, const std::vector<double>& values, double lo,
               double hi, int bins, bool log_axis) {
  std::vector<double> counts(bins, 0);
  auto tr = [&](double v) { return log_axis ? std::log(std::max(v, 1e-9)) : v; };
  const double a = tr(lo), b = tr(hi);
  for (double v : values) {
    const int k = std::clamp(static_cast<int>((tr(v) - a) / (b - a) * bins), 0, bins - 1);
    ++counts[k];
  }
  std::vector<std::string> labels(bins);
  for (int k = 0; k <= bins; k += bins / 4) {
    double edge = log_axis ? std::exp(a + (b - a) * k / bins) : a + (b - a) * k / bins;
    char s[32];
    std::snprintf(s, sizeof s, edge >= 10 ? "%.0f" : "%.2g", edge);
    if (k < bins) labels[k] = s;
  }
  bars(img, r, title, labels, counts);
}

}  // namespace

void plot_stats(const std::vector<SplitStats>& stats, const fs::path& png_file) {
  const int panel_w = 380, panel_h = 220, margin = 40;
  const int rows = static_cast<int>(stats.size());
  cv::Mat img(rows * (panel_h + margin) + margin, 3 * (panel_w + margin) + margin, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int i = 0; i < rows; ++i) {
    const SplitStats& st = stats[i];
    const int y = margin + i * (panel_h + margin);
    const std::string split = st.split.empty() ? "all" : st.split;
    std::vector<std::string> names;
    std::vector<double> counts;
    for (const auto& c : st.classes) {
      names.push_back(c.name.size() > 10 ? c.name.substr(0, 9) + "." : c.name);
      counts.push_back(static_cast<double>(c.objects));
    }
    bars(img, {margin, y, panel_w, panel_h}, split + ": objects per class", names, counts);
    histogram(img, {2 * margin + panel_w, y, panel_w, panel_h}, split + ": box size sqrt(area), px", st.size.values, 4,
              std::max(8.0, st.size.max * 1.01), 24, true);
    histogram(img, {3 * margin + 2 * panel_w, y, panel_w, panel_h}, split + ": aspect w/h", st.aspect.values, 0.1, 10,
              24, true);
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", img, png)) throw IoError(png_file.string() + ": cannot encode the chart");
  write_file_atomic(png_file, std::string(png.begin(), png.end()));
}

}  // namespace cvtk::data

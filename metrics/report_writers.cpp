#include "metrics/report_writers.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace fs = std::filesystem;

namespace cvtk::metrics {
namespace {

std::string fmt(double v, int digits = 4) {
  if (v < 0) return "-1";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

bool is_coco(const Report& r) { return r.protocol.kind == ProtocolKind::kCoco; }

nlohmann::ordered_json undefined_as_null(double v) {
  return v < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
}

}  // namespace

std::string Report::coverage() const {
  return "detections on " + std::to_string(images_with_detections) + " of " + std::to_string(images) + " images; " +
         std::to_string(skipped_unknown_image) + " matched no image, " + std::to_string(skipped_unknown_class) +
         " no class";
}

void print_report(const Report& r, std::ostream& out) {
  out << "protocol  " << r.protocol.name() << "\n";
  for (const auto& [k, v] : r.protocol.settings()) out << "  " << k << ": " << v << "\n";
  out << "ground truth  " << r.ground_truth << ": " << r.images << " images, " << r.gt_objects << " objects\n";
  out << "detections    " << (r.detections_source.empty() ? "(in memory)" : r.detections_source) << ": "
      << r.detections;
  if (r.below_score_threshold) out << ", " << r.below_score_threshold << " below the score threshold";
  if (r.over_max_detections) out << ", " << r.over_max_detections << " over the per-image cap";
  if (r.outside_image) out << ", " << r.outside_image << " reach outside their image (kept)";
  out << "\ncoverage      " << r.coverage();
  if (r.skipped_unknown_image || r.skipped_unknown_class) out << " (skipped, --skip-unknown)";
  out << "\n\n";
  size_t width = 5;
  for (const auto& c : r.classes) width = std::max(width, c.name.size());
  char line[320];
  const char* op = is_coco(r) ? "at IoU 0.5, best F1" : "best F1";
  if (is_coco(r))
    std::snprintf(line, sizeof line, "%*s %7s %7s %7s %6s %6s %7s %6s %6s | %s: %6s %6s %6s\n", int(width), "class",
                  "AP", "AP50", "AP75", "GT", "crowd", "dets", "TP", "FP", op, "score", "prec", "recall");
  else
    std::snprintf(line, sizeof line, "%*s %7s %6s %6s %7s %6s %6s | %s: %6s %6s %6s\n", int(width), "class", "AP", "GT",
                  "diff", "dets", "TP", "FP", op, "score", "prec", "recall");
  out << line;
  for (const auto& c : r.classes) {
    if (is_coco(r))
      std::snprintf(line, sizeof line, "%*s %7s %7s %7s %6zu %6zu %7zu %6zu %6zu | %*s  %6.3f %6.3f %6.3f\n",
                    int(width), c.name.c_str(), fmt(c.ap).c_str(), fmt(c.ap50).c_str(), fmt(c.ap75).c_str(), c.gt,
                    c.ignored_gt, c.detections, c.tp, c.fp, int(std::string(op).size()), "", c.best_f1_score,
                    c.best_f1_precision, c.best_f1_recall);
    else
      std::snprintf(line, sizeof line, "%*s %7s %6zu %6zu %7zu %6zu %6zu | %*s  %6.3f %6.3f %6.3f\n", int(width),
                    c.name.c_str(), fmt(c.ap).c_str(), c.gt, c.ignored_gt, c.detections, c.tp, c.fp,
                    int(std::string(op).size()), "", c.best_f1_score, c.best_f1_precision, c.best_f1_recall);
    out << line;
  }
  out << "\n";
  for (const auto& s : r.summary) {
    std::snprintf(line, sizeof line, "  %-22s %s\n", s.name.c_str(),
                  s.value < 0 ? "-1 (undefined)" : fmt(s.value).c_str());
    out << line;
  }
  for (const auto& w : r.warnings) out << "warning: " << w << "\n";
  std::snprintf(line, sizeof line, "evaluated in %.3f s\n", r.seconds);
  out << line;
}

std::string json_text(const std::vector<Report>& reports) {
  nlohmann::ordered_json root = nlohmann::ordered_json::array();
  for (const Report& r : reports) {
    nlohmann::ordered_json j;
    j["protocol"] = r.protocol.name();
    nlohmann::ordered_json settings;
    for (const auto& [k, v] : r.protocol.settings()) settings[k] = v;
    j["settings"] = settings;
    j["ground_truth"] = r.ground_truth;
    j["detections_source"] = r.detections_source;
    j["counts"] = {{"images", r.images},
                   {"gt_objects", r.gt_objects},
                   {"detections", r.detections},
                   {"images_with_detections", r.images_with_detections},
                   {"below_score_threshold", r.below_score_threshold},
                   {"over_max_detections", r.over_max_detections},
                   {"skipped_unknown_image", r.skipped_unknown_image},
                   {"skipped_unknown_class", r.skipped_unknown_class},
                   {"outside_image", r.outside_image}};
    nlohmann::ordered_json summary;
    for (const auto& s : r.summary) summary[s.name] = undefined_as_null(s.value);
    j["summary"] = summary;
    nlohmann::ordered_json classes = nlohmann::ordered_json::array();
    for (const auto& c : r.classes) {
      nlohmann::ordered_json cj;
      cj["name"] = c.name;
      cj["label"] = c.label;
      cj["gt"] = c.gt;
      cj["ignored_gt"] = c.ignored_gt;
      cj["detections"] = c.detections;
      cj["ap"] = undefined_as_null(c.ap);
      if (is_coco(r)) {
        cj["ap50"] = undefined_as_null(c.ap50);
        cj["ap75"] = undefined_as_null(c.ap75);
        cj["ap_small"] = undefined_as_null(c.ap_small);
        cj["ap_medium"] = undefined_as_null(c.ap_medium);
        cj["ap_large"] = undefined_as_null(c.ap_large);
        cj["ar100"] = undefined_as_null(c.ar100);
      }
      cj["tp"] = c.tp;
      cj["fp"] = c.fp;
      cj["best_f1"] = {{"f1", c.best_f1},
                       {"score", c.best_f1_score},
                       {"precision", c.best_f1_precision},
                       {"recall", c.best_f1_recall},
                       {"tp", c.best_f1_tp},
                       {"fp", c.best_f1_fp}};
      cj["pr_curve"] = {{"recall", c.recall_points}, {"precision", c.precision_curve}, {"score", c.score_curve}};
      if (!c.precision_curve_75.empty()) cj["pr_curve"]["precision_iou75"] = c.precision_curve_75;
      classes.push_back(cj);
    }
    j["classes"] = classes;
    j["warnings"] = r.warnings;
    j["seconds"] = r.seconds;
    root.push_back(j);
  }
  return root.dump(1) + "\n";
}

std::string csv_text(const std::vector<Report>& reports) {
  std::ostringstream s;
  s << "protocol,class,gt,ignored_gt,detections,ap,ap50,ap75,ap_small,ap_medium,ap_large,ar100,tp,fp,best_f1,best_f1_"
       "score,"
       "best_f1_precision,best_f1_recall,images,images_with_detections,skipped_unknown_image,skipped_unknown_class\n";
  auto quoted = [](const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  for (const Report& r : reports)
    for (const auto& c : r.classes)
      s << r.protocol.name() << "," << quoted(c.name) << "," << c.gt << "," << c.ignored_gt << "," << c.detections
        << "," << fmt(c.ap, 6) << "," << fmt(c.ap50, 6) << "," << fmt(c.ap75, 6) << "," << fmt(c.ap_small, 6) << ","
        << fmt(c.ap_medium, 6) << "," << fmt(c.ap_large, 6) << "," << fmt(c.ar100, 6) << "," << c.tp << "," << c.fp
        << "," << fmt(c.best_f1, 6) << "," << fmt(c.best_f1_score, 6) << "," << fmt(c.best_f1_precision, 6) << ","
        << fmt(c.best_f1_recall, 6) << "," << r.images << "," << r.images_with_detections << ","
        << r.skipped_unknown_image << "," << r.skipped_unknown_class << "\n";
  return s.str();
}

void write_json(const std::vector<Report>& reports, const fs::path& file) {
  data::write_file_atomic(file, json_text(reports));
}

void write_csv(const std::vector<Report>& reports, const fs::path& file) {
  data::write_file_atomic(file, csv_text(reports));
}

namespace {

cv::Scalar class_colour(size_t k) {
  static const cv::Scalar kPalette[] = {{180, 119, 31},  {14, 127, 255}, {44, 160, 44},   {40, 39, 214},
                                        {189, 103, 148}, {75, 86, 140},  {194, 119, 227}, {127, 127, 127},
                                        {34, 189, 188},  {207, 190, 23}};
  return kPalette[k % 10];
}

// Axes, grid and labels of a precision-recall plot; returns the plot rectangle.
cv::Rect draw_axes(cv::Mat& img, const std::string& title) {
  const cv::Rect plot(60, 50, img.cols - 80 - 160, img.rows - 100);
  const cv::Scalar ink(40, 40, 40), grid(225, 225, 225);
  for (int i = 0; i <= 10; ++i) {
    const int x = plot.x + plot.width * i / 10, y = plot.y + plot.height - plot.height * i / 10;
    cv::line(img, {x, plot.y}, {x, plot.y + plot.height}, grid, 1);
    cv::line(img, {plot.x, y}, {plot.x + plot.width, y}, grid, 1);
    char t[8];
    std::snprintf(t, sizeof t, "%.1f", i / 10.0);
    cv::putText(img, t, {x - 10, plot.y + plot.height + 16}, cv::FONT_HERSHEY_SIMPLEX, 0.35, ink, 1, cv::LINE_AA);
    cv::putText(img, t, {plot.x - 30, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.35, ink, 1, cv::LINE_AA);
  }
  cv::rectangle(img, plot, ink, 1);
  cv::putText(img, "recall", {plot.x + plot.width / 2 - 20, plot.y + plot.height + 36}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              ink, 1, cv::LINE_AA);
  cv::putText(img, "precision", {4, plot.y - 10}, cv::FONT_HERSHEY_SIMPLEX, 0.45, ink, 1, cv::LINE_AA);
  cv::putText(img, title, {plot.x, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.55, ink, 1, cv::LINE_AA);
  return plot;
}

void draw_curve(cv::Mat& img, const cv::Rect& plot, const std::vector<double>& rec, const std::vector<double>& prec,
                cv::Scalar colour, int thickness) {
  std::vector<cv::Point> pts;
  for (size_t i = 0; i < rec.size() && i < prec.size(); ++i)
    pts.emplace_back(plot.x + static_cast<int>(rec[i] * plot.width),
                     plot.y + plot.height - static_cast<int>(std::max(0.0, prec[i]) * plot.height));
  if (pts.size() > 1) cv::polylines(img, pts, false, colour, thickness, cv::LINE_AA);
}

void legend(cv::Mat& img, const cv::Rect& plot, int row, const std::string& label, cv::Scalar colour) {
  const int x = plot.x + plot.width + 12, y = plot.y + 10 + row * 18;
  cv::line(img, {x, y - 4}, {x + 18, y - 4}, colour, 2, cv::LINE_AA);
  cv::putText(img, label, {x + 24, y}, cv::FONT_HERSHEY_SIMPLEX, 0.38, cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
}

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out;
}

std::string png_bytes(const cv::Mat& img) {
  std::vector<uchar> buf;
  cv::imencode(".png", img, buf);
  return std::string(buf.begin(), buf.end());
}

std::vector<std::pair<std::string, cv::Mat>> render_plots(const Report& r) {
  std::vector<std::pair<std::string, cv::Mat>> out;
  const std::string iou = is_coco(r) ? "IoU 0.5" : "IoU > " + fmt(r.protocol.iou_threshold, 2);
  cv::Mat all(480, 720, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Rect plot_all = draw_axes(all, r.protocol.name() + ": precision-recall, " + iou);
  for (size_t k = 0; k < r.classes.size(); ++k) {
    const ClassReport& c = r.classes[k];
    const std::string ap = "AP " + fmt(c.ap, 3) + (is_coco(r) ? " AP50 " + fmt(c.ap50, 3) : "");
    cv::Mat img(480, 720, CV_8UC3, cv::Scalar(255, 255, 255));
    const cv::Rect plot = draw_axes(img, r.protocol.name() + ": " + c.name + " (" + ap + ")");
    draw_curve(img, plot, c.recall_points, c.precision_curve, class_colour(k), 2);
    legend(img, plot, 0, iou, class_colour(k));
    if (!c.precision_curve_75.empty()) {
      draw_curve(img, plot, c.recall_points, c.precision_curve_75, cv::Scalar(150, 150, 150), 1);
      legend(img, plot, 1, "IoU 0.75", cv::Scalar(150, 150, 150));
    }
    // The best-F1 operating point.
    const cv::Point op(plot.x + static_cast<int>(c.best_f1_recall * plot.width),
                       plot.y + plot.height - static_cast<int>(c.best_f1_precision * plot.height));
    if (c.best_f1 > 0) {
      cv::circle(img, op, 5, cv::Scalar(0, 0, 200), 2, cv::LINE_AA);
      legend(img, plot, 2, "best F1 @ score " + fmt(c.best_f1_score, 2), cv::Scalar(0, 0, 200));
    }
    out.emplace_back(r.protocol.name() + "_" + safe_name(c.name) + ".png", img);
    if (k < 20) {
      draw_curve(all, plot_all, c.recall_points, c.precision_curve, class_colour(k), 2);
      legend(all, plot_all, static_cast<int>(k), c.name.substr(0, 12) + " " + fmt(is_coco(r) ? c.ap50 : c.ap, 3),
             class_colour(k));
    }
  }
  out.insert(out.begin(), {r.protocol.name() + "_all.png", all});
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> pr_plot_pngs(const Report& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, img] : render_plots(r)) out.emplace_back(name, png_bytes(img));
  return out;
}

std::vector<fs::path> write_pr_plots(const Report& r, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw data::IoError(dir.string() + ": cannot create directory: " + ec.message());
  std::vector<fs::path> written;
  for (const auto& [name, bytes] : pr_plot_pngs(r)) {
    data::write_file_atomic(dir / name, bytes);
    written.push_back(dir / name);
  }
  return written;
}

}  // namespace cvtk::metrics

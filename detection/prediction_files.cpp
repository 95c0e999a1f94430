#include "detection/prediction_files.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/data/errors.h"
#include "vision/image/draw.h"

namespace cvtk::detection {

namespace fs = std::filesystem;

std::vector<int> class_filter(const std::vector<std::string>& names, const std::vector<std::string>& classes) {
  std::vector<int> labels;
  for (const auto& name : names) {
    const auto it = std::find(classes.begin(), classes.end(), name);
    if (it == classes.end()) {
      std::string known;
      for (const auto& c : classes) known += (known.empty() ? "" : ", ") + c;
      throw std::invalid_argument("--classes " + data::quote(name) +
                                  ": not a class of the model (its classes: " + known + ")");
    }
    labels.push_back(int(it - classes.begin()));
  }
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  return labels;
}

void keep_classes(std::vector<data::Detection>& detections, const std::vector<int>& labels) {
  if (labels.empty()) return;
  detections.erase(std::remove_if(detections.begin(), detections.end(),
                                  [&](const data::Detection& d) {
                                    return !std::binary_search(labels.begin(), labels.end(), d.label);
                                  }),
                   detections.end());
}

std::string yolo_label_text(const std::vector<data::Detection>& detections, int width, int height, bool confidence) {
  std::string text;
  const double w = width, h = height;
  for (const auto& d : detections) {
    char line[160];
    const double cx = (d.box.x1 + d.box.x2) / 2 / w, cy = (d.box.y1 + d.box.y2) / 2 / h;
    const double bw = (d.box.x2 - d.box.x1) / w, bh = (d.box.y2 - d.box.y1) / h;
    int n = std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f", d.label, cx, cy, bw, bh);
    if (confidence) n += std::snprintf(line + n, sizeof line - size_t(n), " %.6f", d.score);
    text.append(line, size_t(n));
    text += '\n';
  }
  return text;
}

cv::Rect crop_rect(const data::Box& box, cv::Size image) {
  const int x1 = std::max(0, int(std::floor(box.x1))), y1 = std::max(0, int(std::floor(box.y1)));
  const int x2 = std::min(image.width, int(std::ceil(box.x2))), y2 = std::min(image.height, int(std::ceil(box.y2)));
  if (x2 <= x1 || y2 <= y1) return {};
  return {x1, y1, x2 - x1, y2 - y1};
}

std::string class_directory(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s;
}

void write_rgb_image(const cv::Mat& rgb, const fs::path& file) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (!cv::imwrite(file.string(), bgr)) throw data::IoError(file.string() + ": cannot write the image");
}

size_t write_crops(const cv::Mat& rgb, const std::vector<data::Detection>& detections,
                   const std::vector<std::string>& classes, const fs::path& dir, const std::string& stem) {
  size_t written = 0, n = 0;
  for (const auto& d : detections) {
    ++n;
    const cv::Rect r = crop_rect(d.box, rgb.size());
    if (r.empty()) continue;
    const std::string cls =
        d.label >= 0 && size_t(d.label) < classes.size() ? classes[size_t(d.label)] : std::to_string(d.label);
    write_rgb_image(rgb(r), dir / class_directory(cls) / (stem + "_" + std::to_string(n) + ".jpg"));
    ++written;
  }
  return written;
}

void draw_detections(cv::Mat& rgb, const std::vector<data::Detection>& detections,
                     const std::vector<std::string>& classes) {
  std::vector<image::DrawBox> boxes;
  for (const auto& d : detections) {
    const std::string cls =
        d.label >= 0 && size_t(d.label) < classes.size() ? classes[size_t(d.label)] : std::to_string(d.label);
    boxes.push_back({d.box, cls, d.score, d.label});
  }
  image::draw_boxes(rgb, boxes);
}

}  // namespace cvtk::detection

#include "vision/image/draw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "vision/image/label_layout.h"

namespace cvtk::image {
namespace {
// Distinct, saturated colours (RGB), in the order classes get them.
const cv::Scalar kPalette[] = {{230, 25, 75},   {60, 180, 75},   {255, 225, 25},  {0, 130, 200},   {245, 130, 48},
                               {145, 30, 180},  {70, 240, 240},  {240, 50, 230},  {210, 245, 60},  {250, 190, 212},
                               {0, 128, 128},   {220, 190, 255}, {170, 110, 40},  {255, 250, 200}, {128, 0, 0},
                               {170, 255, 195}, {128, 128, 0},   {255, 215, 180}, {0, 0, 128},     {128, 128, 128}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
}  // namespace

cv::Scalar class_colour(int class_index) {
  const int k = ((class_index % kPaletteSize) + kPaletteSize) % kPaletteSize;
  return kPalette[k];
}

LabelStyle label_style(cv::Size image) {
  // Sized on the shorter side: about 0.4 (9-pixel capitals) at 480, the common detector input, growing
  // linearly, never below what stays legible (0.3) and never so large labels crowd out the boxes.
  const double side = std::min(image.width, image.height);
  LabelStyle s;
  s.font_scale = std::clamp(side / 1200.0, 0.3, 2.0);
  s.text_thickness = s.font_scale < 0.8 ? 1 : 2;
  s.box_thickness = std::max(1, static_cast<int>(std::lround(side / 320.0)));
  s.padding = std::max(1, static_cast<int>(std::lround(2 * s.font_scale)));
  return s;
}

cv::Scalar ink_for(const cv::Scalar& background) {
  // Relative luminance (sRGB, Rec. 709 weights) against the midpoint of the two inks' contrast ratios.
  auto linear = [](double c) {
    c /= 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  };
  const double l = 0.2126 * linear(background[0]) + 0.7152 * linear(background[1]) + 0.0722 * linear(background[2]);
  // Black wins where (l + 0.05) / 0.05 > 1.05 / (l + 0.05), i.e. l > ~0.179.
  return l > 0.179 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
}

void draw_boxes(cv::Mat& rgb, const std::vector<DrawBox>& boxes) {
  if (rgb.type() != CV_8UC3) throw std::invalid_argument("draw_boxes: expected an 8-bit 3-channel image");
  if (rgb.empty()) return;
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const LabelStyle style = label_style(rgb.size());
  // Lowest score first, so where boxes or labels must overlap the more confident one is on top.
  std::vector<size_t> order(boxes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return boxes[a].score < boxes[b].score; });
  std::vector<LabelRequest> requests(boxes.size());
  std::vector<std::string> texts(boxes.size());
  std::vector<int> baselines(boxes.size(), 0);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const DrawBox& b = boxes[i];
    const cv::Point p1(static_cast<int>(std::floor(b.box.x1)), static_cast<int>(std::floor(b.box.y1)));
    const cv::Point p2(static_cast<int>(std::ceil(b.box.x2)), static_cast<int>(std::ceil(b.box.y2)));
    requests[i].box = cv::Rect(p1, p2);
    requests[i].score = b.score;
    texts[i] = b.label;
    if (b.score >= 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", b.score);
      texts[i] += (texts[i].empty() ? "" : " ") + std::string(buf);
    }
    if (texts[i].empty()) continue;
    const cv::Size ts = cv::getTextSize(texts[i], font, style.font_scale, style.text_thickness, &baselines[i]);
    requests[i].size = {ts.width + 2 * style.padding, ts.height + baselines[i] + 2 * style.padding};
  }
  // Every box first, then every label, so no box line runs through a label.
  for (size_t i : order) {
    const cv::Rect& r = requests[i].box;
    cv::rectangle(rgb, r.tl(), r.br() - cv::Point(1, 1), class_colour(boxes[i].class_index), style.box_thickness,
                  cv::LINE_8);
  }
  const auto places = place_labels(requests, rgb.size());
  for (size_t i : order) {
    if (places[i].empty()) continue;
    const cv::Scalar colour = class_colour(boxes[i].class_index);
    cv::rectangle(rgb, places[i], colour, cv::FILLED);
    const cv::Point origin(places[i].x + style.padding, places[i].y + places[i].height - style.padding - baselines[i]);
    cv::Mat roi = rgb(places[i]);  // text cut to its background, also when the label was cut to the image
    cv::putText(roi, texts[i], origin - places[i].tl(), font, style.font_scale, ink_for(colour), style.text_thickness,
                cv::LINE_AA);
  }
}

cv::Mat mosaic(const std::vector<cv::Mat>& images, int columns) {
  if (images.empty()) return {};
  if (columns < 1) throw std::invalid_argument("mosaic: columns must be >= 1, got " + std::to_string(columns));
  int cw = 0, ch = 0;
  for (const cv::Mat& m : images) {
    if (m.type() != CV_8UC3) throw std::invalid_argument("mosaic: expected 8-bit 3-channel images");
    cw = std::max(cw, m.cols);
    ch = std::max(ch, m.rows);
  }
  const int n = static_cast<int>(images.size());
  const int cols = std::min(columns, n);
  const int rows = (n + cols - 1) / cols;
  cv::Mat out(rows * ch, cols * cw, CV_8UC3, cv::Scalar::all(0));
  for (int i = 0; i < n; ++i) {
    const cv::Mat& m = images[static_cast<size_t>(i)];
    m.copyTo(out(cv::Rect((i % cols) * cw, (i / cols) * ch, m.cols, m.rows)));
  }
  return out;
}

}  // namespace cvtk::image

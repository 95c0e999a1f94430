#include "vision/image/draw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

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

void draw_boxes(cv::Mat& rgb, const std::vector<DrawBox>& boxes) {
  if (rgb.type() != CV_8UC3) throw std::invalid_argument("draw_boxes: expected an 8-bit 3-channel image");
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const double font_scale = 0.4;
  for (const DrawBox& b : boxes) {
    const cv::Scalar colour = class_colour(b.class_index);
    const cv::Point p1(static_cast<int>(std::floor(b.box.x1)), static_cast<int>(std::floor(b.box.y1)));
    const cv::Point p2(static_cast<int>(std::ceil(b.box.x2)) - 1, static_cast<int>(std::ceil(b.box.y2)) - 1);
    cv::rectangle(rgb, p1, p2, colour, 2, cv::LINE_8);
    std::string text = b.label;
    if (b.score >= 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", b.score);
      text += (text.empty() ? "" : " ") + std::string(buf);
    }
    if (text.empty()) continue;
    int baseline = 0;
    const cv::Size ts = cv::getTextSize(text, font, font_scale, 1, &baseline);
    int top = p1.y - ts.height - baseline - 2;
    if (top < 0) top = p1.y;  // no room above: put the label inside the box
    const int left = std::max(0, std::min(p1.x, rgb.cols - ts.width - 2));
    cv::rectangle(rgb, cv::Rect(left, top, ts.width + 2, ts.height + baseline + 2), colour, cv::FILLED);
    const double luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
    const cv::Scalar ink = luma > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
    cv::putText(rgb, text, cv::Point(left + 1, top + ts.height + 1), font, font_scale, ink, 1, cv::LINE_AA);
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

#include "vision/image/label_layout.h"

#include <algorithm>
#include <numeric>

namespace cvtk::image {

namespace {

// How far a label may be stacked away from its box, in label heights.
constexpr int kMaxStack = 3;

long overlap_area(const cv::Rect& r, const std::vector<cv::Rect>& placed) {
  long area = 0;
  for (const cv::Rect& p : placed) area += (r & p).area();
  return area;
}

// The x positions tried for a label of width w next to box: the box's left edge (clamped into the
// image), then just right of and just left of each placed label, as long as the label still shares
// columns with the box.
std::vector<int> x_candidates(const cv::Rect& box, int w, int width, const std::vector<cv::Rect>& placed) {
  const int max_x = width - w;
  std::vector<int> xs = {std::clamp(box.x, 0, max_x)};
  for (const cv::Rect& p : placed)
    for (int x : {p.x + p.width, p.x - w})
      if (x >= 0 && x <= max_x && x < box.x + box.width && x + w > box.x) xs.push_back(x);
  return xs;
}

// The rows tried for each anchor (above, inside the top, below), nearest first: the anchor's own row,
// then rows stacked outwards (upwards above the box, downwards inside and below it). Rows outside the
// image are left out.
std::vector<std::vector<int>> y_candidates(const cv::Rect& box, int h, int height) {
  const int above = box.y - h, inside = std::max(box.y, 0), below = box.y + box.height;
  std::vector<std::vector<int>> rows(3);
  for (int k = 0; k <= kMaxStack; ++k) {
    if (above - k * h >= 0 && above - k * h + h <= height) rows[0].push_back(above - k * h);
    if (inside + k * h + h <= height && inside + k * h < below) rows[1].push_back(inside + k * h);
    if (below + k * h >= 0 && below + k * h + h <= height) rows[2].push_back(below + k * h);
  }
  return rows;
}

cv::Rect place_one(const LabelRequest& label, cv::Size image, const std::vector<cv::Rect>& placed) {
  const int w = std::min(label.size.width, image.width), h = std::min(label.size.height, image.height);
  const auto rows = y_candidates(label.box, h, image.height);
  const auto xs = x_candidates(label.box, w, image.width, placed);
  // First pass: each anchor's own row at the box's edge; then every shifted position.
  for (const auto& r : rows)
    if (!r.empty() && overlap_area({xs[0], r[0], w, h}, placed) == 0) return {xs[0], r[0], w, h};
  cv::Rect best;
  long best_area = -1;
  for (const auto& r : rows)
    for (int y : r)
      for (int x : xs) {
        const cv::Rect c(x, y, w, h);
        const long a = overlap_area(c, placed);
        if (a == 0) return c;
        if (best_area < 0 || a < best_area) best = c, best_area = a;
      }
  if (best_area >= 0) return best;
  // No row fits the rules (a box outside the image, a label as tall as it): the nearest row inside.
  const int y = std::clamp(label.box.y - h, 0, image.height - h);
  return {xs[0], y, w, h};
}

}  // namespace

std::vector<cv::Rect> place_labels(const std::vector<LabelRequest>& labels, cv::Size image) {
  std::vector<cv::Rect> result(labels.size());
  if (image.width <= 0 || image.height <= 0) return result;
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return labels[a].score > labels[b].score; });
  std::vector<cv::Rect> placed;
  for (size_t i : order) {
    if (labels[i].size.width <= 0 || labels[i].size.height <= 0) continue;
    result[i] = place_one(labels[i], image, placed);
    placed.push_back(result[i]);
  }
  return result;
}

}  // namespace cvtk::image

#include "vision/data/annotation.h"

#include <algorithm>

namespace cvtk::data {

double iou(const Box& a, const Box& b) {
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

size_t Dataset::object_count() const {
  size_t n = 0;
  for (const auto& im : images) n += im.objects.size();
  return n;
}

int64_t Dataset::category_id(int label) const {
  if (label >= 0 && static_cast<size_t>(label) < category_ids.size()) return category_ids[label];
  return static_cast<int64_t>(label) + 1;
}

int Dataset::class_index(const std::string& name) const {
  auto it = std::find(classes.begin(), classes.end(), name);
  return it == classes.end() ? -1 : static_cast<int>(it - classes.begin());
}

}  // namespace cvtk::data

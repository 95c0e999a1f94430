#include "metrics/input_checks.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cvtk::metrics::detail {

std::unordered_map<int64_t, size_t> index_images(const data::Dataset& gt) {
  std::unordered_map<int64_t, size_t> image_index;
  image_index.reserve(gt.images.size() * 2);
  for (size_t i = 0; i < gt.images.size(); ++i) {
    auto [it, inserted] = image_index.emplace(gt.images[i].id, i);
    if (!inserted)
      throw std::invalid_argument(gt.source + ": images '" + gt.images[it->second].name + "' and '" +
                                  gt.images[i].name + "' have the same id " + std::to_string(gt.images[i].id));
  }
  return image_index;
}

void check_object_labels(const data::Dataset& gt) {
  for (const auto& im : gt.images)
    for (const auto& o : im.objects)
      if (o.label < 0 || static_cast<size_t>(o.label) >= gt.classes.size())
        throw std::invalid_argument(gt.source + ": image " + std::to_string(im.id) + ": object label " +
                                    std::to_string(o.label) + " out of range");
}

std::vector<size_t> detection_images(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                     const std::unordered_map<int64_t, size_t>& image_index) {
  std::vector<size_t> image(dets.size());
  for (size_t i = 0; i < dets.size(); ++i) {
    const auto& d = dets[i];
    const std::string where = "detection " + std::to_string(i);
    const auto it = image_index.find(d.image_id);
    if (it == image_index.end())
      throw std::invalid_argument(where + ": image id " + std::to_string(d.image_id) + " is not in the ground truth");
    if (d.label < 0 || static_cast<size_t>(d.label) >= gt.classes.size())
      throw std::invalid_argument(where + ": label " + std::to_string(d.label) + " is out of range (" +
                                  std::to_string(gt.classes.size()) + " classes)");
    if (!std::isfinite(d.score)) throw std::invalid_argument(where + ": score is not finite");
    if (!std::isfinite(d.box.x1) || !std::isfinite(d.box.y1) || !std::isfinite(d.box.x2) || !std::isfinite(d.box.y2))
      throw std::invalid_argument(where + ": box is not finite");
    if (d.box.x2 < d.box.x1 || d.box.y2 < d.box.y1) throw std::invalid_argument(where + ": box has x2 < x1 or y2 < y1");
    image[i] = it->second;
  }
  return image;
}

double mean_defined(const std::vector<double>& values) {
  double s = 0;
  size_t n = 0;
  for (double x : values)
    if (x > -1) s += x, ++n;
  return n ? s / static_cast<double>(n) : -1.0;
}

}  // namespace cvtk::metrics::detail

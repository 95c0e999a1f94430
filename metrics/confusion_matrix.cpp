// The class-agnostic confusion matrix (error_analysis.h).
#include <cmath>
#include <stdexcept>
#include <string>

#include "metrics/error_analysis.h"
#include "metrics/error_matching.h"

namespace cvtk::metrics {
namespace {

using detail::box_iou;
using detail::is_ignored;

// One image's row of the confusion matrix (see error_analysis.h for the rule).
void assign_image(const std::vector<data::Detection>& dets, const std::vector<data::Object>& objects,
                  const uint32_t* first, const uint32_t* last, double iou_threshold, std::vector<char>& taken,
                  ConfusionMatrix& cm) {
  const size_t K = cm.classes.size(), G = objects.size();
  taken.assign(G, 0);
  for (const uint32_t* it = first; it != last; ++it) {
    const data::Detection& d = dets[*it];
    double best = -1;
    int found = -1;
    bool absorbed = false;
    for (size_t k = 0; k < G; ++k) {
      if (is_ignored(objects[k])) {
        absorbed = absorbed || box_iou(d.box, objects[k].box, objects[k].crowd) >= iou_threshold;
        continue;
      }
      const double v = taken[k] ? -1 : box_iou(d.box, objects[k].box, false);
      if (v >= iou_threshold && v > best) best = v, found = static_cast<int>(k);
    }
    if (found >= 0) {
      taken[found] = 1;
      ++cm.counts[objects[found].label][d.label];
    } else if (absorbed) {
      ++cm.ignored_detections;
    } else {
      ++cm.counts[K][d.label];
    }
  }
  for (size_t k = 0; k < G; ++k)
    if (!is_ignored(objects[k]) && !taken[k]) ++cm.counts[objects[k].label][K];
}

}  // namespace

ConfusionMatrix confusion_matrix(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                 const ConfusionOptions& options) {
  if (std::isnan(options.score_threshold)) throw std::invalid_argument("confusion matrix: score threshold is NaN");
  if (!(options.iou_threshold > 0 && options.iou_threshold <= 1))
    throw std::invalid_argument("confusion matrix: IoU threshold " + std::to_string(options.iou_threshold) +
                                " is not in (0, 1]");
  const std::vector<uint32_t> det_image = detail::check_input(gt, dets);
  const detail::ImageLists lists = detail::list_by_image(gt, dets, det_image, options.score_threshold, 0);
  ConfusionMatrix cm;
  cm.options = options;
  cm.classes = gt.classes;
  const size_t K = gt.classes.size();
  cm.counts.assign(K + 1, std::vector<size_t>(K + 1, 0));
  cm.below_score_threshold = dets.size() - lists.dets.size();
  std::vector<char> taken;
  for (size_t p = 0; p < lists.order.size(); ++p)
    assign_image(dets, gt.images[lists.order[p]].objects, lists.dets.data() + lists.begin[p],
                 lists.dets.data() + lists.begin[p + 1], options.iou_threshold, taken, cm);
  cm.normalized.assign(K + 1, std::vector<double>(K + 1, 0.0));
  for (size_t r = 0; r <= K; ++r) {
    size_t sum = 0;
    for (size_t v : cm.counts[r]) sum += v;
    if (sum == 0) continue;
    for (size_t c = 0; c <= K; ++c) cm.normalized[r][c] = static_cast<double>(cm.counts[r][c]) / sum;
  }
  return cm;
}

}  // namespace cvtk::metrics

#include "metrics/evaluate.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "metrics/coco_eval.h"
#include "metrics/grouping.h"
#include "metrics/input_checks.h"
#include "metrics/voc_eval.h"

namespace cvtk::metrics {

namespace detail {

Grouping group(const data::Dataset& gt, const std::vector<data::Detection>& dets, const std::vector<char>& kept,
               const std::vector<uint32_t>& det_image, const std::vector<int>& classes, bool records) {
  Grouping g;
  g.gt = &gt;
  g.dets = &dets;
  g.classes = classes;
  g.image_order.resize(gt.images.size());
  std::iota(g.image_order.begin(), g.image_order.end(), size_t(0));
  std::stable_sort(g.image_order.begin(), g.image_order.end(),
                   [&](size_t a, size_t b) { return gt.images[a].id < gt.images[b].id; });
  std::vector<uint32_t> position(gt.images.size());
  for (size_t p = 0; p < g.image_order.size(); ++p) position[g.image_order[p]] = static_cast<uint32_t>(p);
  const size_t num_classes = gt.classes.size();
  g.gt_by_class.assign(num_classes, {});
  g.dets_by_class.assign(num_classes, {});
  for (size_t p = 0; p < g.image_order.size(); ++p) {
    const auto& objects = gt.images[g.image_order[p]].objects;
    for (size_t j = 0; j < objects.size(); ++j)
      g.gt_by_class[objects[j].label].emplace_back(static_cast<uint32_t>(p), static_cast<uint32_t>(j));
  }
  // Detections in (image position, input order) order by a counting sort over positions, then dealt
  // to their classes in that order: each class's list comes out as a stable sort by position would
  // leave it.
  g.image_position.assign(dets.size(), -1);
  std::vector<uint32_t> start(g.image_order.size() + 1, 0), per_class(num_classes, 0);
  for (size_t i = 0; i < dets.size(); ++i) {
    if (!kept[i]) continue;
    const uint32_t p = position[det_image[i]];
    g.image_position[i] = p;
    ++start[p + 1];
    ++per_class[dets[i].label];
  }
  for (size_t p = 0; p < g.image_order.size(); ++p) start[p + 1] += start[p];
  std::vector<uint32_t> by_position(start.back());
  for (size_t i = 0; i < dets.size(); ++i)
    if (kept[i]) by_position[start[g.image_position[i]]++] = static_cast<uint32_t>(i);
  for (size_t k = 0; k < num_classes; ++k) g.dets_by_class[k].reserve(per_class[k]);
  for (uint32_t i : by_position) g.dets_by_class[dets[i].label].push_back(i);
  if (!records) return g;
  g.det_records_by_class.assign(num_classes, {});
  for (size_t k = 0; k < num_classes; ++k) g.det_records_by_class[k].reserve(per_class[k]);
  for (uint32_t i : by_position) {
    const data::Detection& d = dets[i];
    g.det_records_by_class[d.label].push_back({d.box, d.score, static_cast<uint32_t>(g.image_position[i])});
  }
  return g;
}

}  // namespace detail

const SummaryNumber* Report::find(const std::string& name) const {
  for (const auto& s : summary)
    if (s.name == name) return &s;
  return nullptr;
}

namespace {

void check_ground_truth(const data::Dataset& gt, const Protocol& protocol, Report& report) {
  detail::check_object_labels(gt);
  for (const auto& im : gt.images)
    for (const auto& o : im.objects) {
      if (protocol.kind == ProtocolKind::kCoco && o.id == 0)
        report.warnings.push_back("ground-truth annotation id 0 in image " + std::to_string(im.id) +
                                  ": pycocotools never counts it as matched; cvtk does");
    }
}

// Coverage: an image without any detection is easy to miss in a mAP, and usually means the
// detections refer to the images by ids the ground truth does not use.
void count_coverage(const data::Dataset& gt, const std::vector<uint32_t>& det_image, Report& report) {
  std::vector<char> has(gt.images.size(), 0);
  for (uint32_t i : det_image) has[i] = 1;
  report.images_with_detections = static_cast<size_t>(std::count(has.begin(), has.end(), 1));
  if (report.images_with_detections < report.images)
    report.warnings.push_back("detections on only " + std::to_string(report.images_with_detections) + " of " +
                              std::to_string(report.images) + " ground-truth images (" +
                              std::to_string(report.images - report.images_with_detections) + " have none)");
}

// Each detection's index in gt.images. The checks are detail::detection_images' (input_checks.h),
// which runs, and words the error, when one fails; the image of the previous detection is tried first,
// as detections usually come image by image.
std::vector<uint32_t> checked_detection_images(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                               const std::unordered_map<int64_t, size_t>& image_index) {
  std::vector<uint32_t> image(dets.size());
  int64_t last_id = 0;
  size_t last = static_cast<size_t>(-1);
  const int num_classes = static_cast<int>(gt.classes.size());
  for (size_t i = 0; i < dets.size(); ++i) {
    const data::Detection& d = dets[i];
    if (last == static_cast<size_t>(-1) || d.image_id != last_id) {
      const auto it = image_index.find(d.image_id);
      last = it == image_index.end() ? static_cast<size_t>(-1) : it->second;
      last_id = d.image_id;
    }
    const bool finite = std::isfinite(d.score) && std::isfinite(d.box.x1) && std::isfinite(d.box.y1) &&
                        std::isfinite(d.box.x2) && std::isfinite(d.box.y2);
    if (last == static_cast<size_t>(-1) || d.label < 0 || d.label >= num_classes || !finite || d.box.x2 < d.box.x1 ||
        d.box.y2 < d.box.y1) {
      detail::detection_images(gt, dets, image_index);  // throws, naming the first bad detection
      throw std::logic_error("evaluate: a detection failed a check that detection_images passed");
    }
    image[i] = static_cast<uint32_t>(last);
  }
  return image;
}

// Class subset.
std::vector<int> selected_classes(const data::Dataset& gt, const Protocol& protocol) {
  std::vector<int> classes;
  if (protocol.classes.empty()) {
    classes.resize(gt.classes.size());
    std::iota(classes.begin(), classes.end(), 0);
  } else {
    for (const auto& name : protocol.classes) {
      const int k = gt.class_index(name);
      if (k < 0) {
        std::string known;
        for (const auto& c : gt.classes) known += (known.empty() ? "" : ", ") + c;
        throw std::invalid_argument("class '" + name + "' is not in the ground truth (classes: " + known + ")");
      }
      if (std::find(classes.begin(), classes.end(), k) == classes.end()) classes.push_back(k);
    }
    std::sort(classes.begin(), classes.end());
  }
  return classes;
}

// Score threshold, then the VOC per-image cap (highest scores first, ties in input order).
std::vector<char> kept_detections(const std::vector<data::Detection>& dets, const Protocol& protocol, Report& report) {
  std::vector<char> kept(dets.size(), 1);
  for (size_t i = 0; i < dets.size(); ++i)
    if (dets[i].score < protocol.score_threshold) {
      kept[i] = 0;
      ++report.below_score_threshold;
    }
  if (protocol.kind != ProtocolKind::kCoco && protocol.max_detections > 0) {
    std::unordered_map<int64_t, std::vector<uint32_t>> per_image;
    for (size_t i = 0; i < dets.size(); ++i)
      if (kept[i]) per_image[dets[i].image_id].push_back(static_cast<uint32_t>(i));
    for (auto& [id, list] : per_image) {
      if (list.size() <= static_cast<size_t>(protocol.max_detections)) continue;
      std::stable_sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) { return dets[a].score > dets[b].score; });
      for (size_t j = protocol.max_detections; j < list.size(); ++j) kept[list[j]] = 0;
      report.over_max_detections += list.size() - protocol.max_detections;
    }
  }
  return kept;
}

void evaluate_coco(const detail::Grouping& g, const std::vector<int>& classes, const Protocol& protocol,
                   Report& report) {
  std::vector<detail::CocoClassResult> results(classes.size());
  tbb::parallel_for(size_t(0), classes.size(),
                    [&](size_t i) { results[i] = detail::evaluate_coco_class(g, classes[i], protocol); });
  report.summary = detail::coco_summary(results, protocol);
  for (size_t i = 0; i < classes.size(); ++i) report.classes[i] = std::move(results[i].report);
}

void evaluate_voc(const detail::Grouping& g, const std::vector<int>& classes, const Protocol& protocol,
                  Report& report) {
  tbb::parallel_for(size_t(0), classes.size(),
                    [&](size_t i) { report.classes[i] = detail::evaluate_voc_class(g, classes[i], protocol); });
  // mAP: the plain mean over the evaluated classes (as py-faster-rcnn); a class without ground
  // truth has an undefined AP and is left out, with a warning.
  double sum = 0;
  size_t n = 0;
  for (const auto& c : report.classes) {
    if (c.ap < 0) {
      report.warnings.push_back("class '" + c.name +
                                "' has no (non-difficult) ground truth: AP undefined, left out of mAP");
      continue;
    }
    sum += c.ap;
    ++n;
  }
  report.summary.push_back({"mAP", n ? sum / n : -1});
}

}  // namespace

Report evaluate(const data::Dataset& gt, const std::vector<data::Detection>& dets, const Protocol& protocol) {
  const auto start = std::chrono::steady_clock::now();
  const int threads =
      protocol.threads > 0 ? protocol.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);

  Report report;
  report.protocol = protocol;
  report.ground_truth = gt.source;
  report.images = gt.images.size();
  report.gt_objects = gt.object_count();
  report.detections = dets.size();

  // Validate what the readers cannot: detections built in memory.
  const std::unordered_map<int64_t, size_t> image_index = detail::index_images(gt);
  check_ground_truth(gt, protocol, report);
  const std::vector<uint32_t> det_image = checked_detection_images(gt, dets, image_index);
  count_coverage(gt, det_image, report);
  const std::vector<int> classes = selected_classes(gt, protocol);
  const std::vector<char> kept = kept_detections(dets, protocol, report);

  const detail::Grouping g = detail::group(gt, dets, kept, det_image, classes, protocol.kind == ProtocolKind::kCoco);
  report.classes.resize(classes.size());
  if (protocol.kind == ProtocolKind::kCoco)
    evaluate_coco(g, classes, protocol, report);
  else
    evaluate_voc(g, classes, protocol, report);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace cvtk::metrics

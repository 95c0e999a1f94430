#pragma once
// Ground truth and detections grouped by class and image, built once per evaluation so no protocol
// does quadratic work. Images are ordered by ascending id (the order COCOeval accumulates in);
// detections keep their input order within a group, which the stable sorts rely on for ties.
#include <cstdint>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::metrics::detail {

// A detection as the COCO matching walk reads it, stored with its class so the walk reads memory in
// order instead of gathering from the whole detection list.
struct ClassDetection {
  data::Box box;
  double score;
  uint32_t position;  // its image's position in Grouping::image_order
};

struct Grouping {
  const data::Dataset* gt = nullptr;
  const std::vector<data::Detection>* dets = nullptr;
  std::vector<size_t> image_order;      // positions in gt->images, ascending id
  std::vector<int64_t> image_position;  // per detection: its image's position in image_order
  std::vector<int> classes;             // labels evaluated, ascending
  // Per label: (image position, object index) pairs in image order, and detection indices in
  // (image position, input order) order.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> gt_by_class;
  std::vector<std::vector<uint32_t>> dets_by_class;
  std::vector<std::vector<ClassDetection>> det_records_by_class;  // parallel to dets_by_class; COCO only
};

// kept: which detections take part (score threshold, per-image cap already applied by the caller);
// det_image: each detection's index in gt.images (the caller has checked every detection);
// records: also fill det_records_by_class (the COCO walk reads them; the VOC one does not).
Grouping group(const data::Dataset& gt, const std::vector<data::Detection>& dets, const std::vector<char>& kept,
               const std::vector<uint32_t>& det_image, const std::vector<int>& classes, bool records);

}  // namespace cvtk::metrics::detail

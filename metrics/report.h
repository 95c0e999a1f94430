#pragma once
// What an evaluation produces: per-class results, the summary numbers, and the protocol that made
// them. Numbers that are undefined (no ground truth for a class or an area range) are -1, as in
// pycocotools, never 0.
#include <cstddef>
#include <string>
#include <vector>

#include "metrics/protocol.h"

namespace cvtk::metrics {

struct ClassReport {
  std::string name;
  int label = 0;
  size_t gt = 0;                // ground truth that counts (VOC: not difficult; COCO: not crowd)
  size_t ignored_gt = 0;        // difficult (VOC) or crowd (COCO) objects
  size_t detections = 0;        // detections of the class that were evaluated
  double ap = -1;               // VOC: AP at the protocol's IoU; COCO: AP@[.50:.95], area all, 100 dets
  double ap50 = -1, ap75 = -1;  // COCO
  double ap_small = -1, ap_medium = -1, ap_large = -1;  // COCO
  double ar100 = -1;                                    // COCO: recall at 100 dets, mean over IoUs

  // The operating point with the best F1 on the class's ranked detections (VOC: the protocol's
  // IoU; COCO: IoU 0.5, area all, 100 dets): score threshold, TP, FP, precision, recall.
  double best_f1 = 0, best_f1_score = 0, best_f1_precision = 0, best_f1_recall = 0;
  size_t best_f1_tp = 0, best_f1_fp = 0;
  // TP and FP over all evaluated detections (same matching as the operating point).
  size_t tp = 0, fp = 0;

  // Precision-recall curve: precision (non-increasing envelope) at the recall points 0:0.01:1, and
  // the score of the detection where each point is reached (0 past the last detection). For COCO at
  // IoU 0.5 and 0.75; for VOC at the protocol's IoU (curve_75 empty).
  std::vector<double> recall_points;
  std::vector<double> precision_curve, score_curve;
  std::vector<double> precision_curve_75;
};

struct SummaryNumber {
  std::string name;   // "mAP", "AP", "AP50", "AR@100 small", ...
  double value = -1;  // -1: undefined
};

struct Report {
  Protocol protocol;
  std::string ground_truth, detections_source;  // what was evaluated, for the header
  std::vector<ClassReport> classes;
  std::vector<SummaryNumber> summary;  // VOC: mAP; COCO: the 12 COCOeval stats in its order
  size_t images = 0, gt_objects = 0, detections = 0;
  size_t below_score_threshold = 0, over_max_detections = 0;
  size_t skipped_unknown_image = 0, skipped_unknown_class = 0, outside_image = 0;
  // Coverage: ground-truth images with at least one of the detections given (any class, before the
  // score threshold). Detections that matched no image (or more than one) or no class are counted in
  // skipped_unknown_image / skipped_unknown_class by the caller that read them (--skip-unknown;
  // without it they are errors).
  size_t images_with_detections = 0;
  std::vector<std::string> warnings;
  double seconds = 0;

  // The main number: VOC mAP, COCO AP@[.50:.95].
  double headline() const { return summary.empty() ? -1 : summary.front().value; }
  const SummaryNumber* find(const std::string& name) const;
  // "detections on 73 of 364 images; 0 matched no image, 0 no class", as every report form states it.
  std::string coverage() const;
};

}  // namespace cvtk::metrics

#pragma once
// Evaluation protocols as values. A Report carries the Protocol it was computed with, and prints
// every setting next to its numbers, so a user can tell why two tools disagree.
//
//   voc07  PASCAL VOC 2007: 11-point interpolated AP at IoU > 0.5, difficult objects ignored.
//   voc    PASCAL VOC 2010+: all-point ("area") AP, same matching.
//   coco   COCO (pycocotools COCOeval, bbox): IoU .50:.05:.95, 101 recall points, area ranges,
//          maxDets 1/10/100 per image per category, crowd regions ignored.
// The reference tools' exact doubles are kept (see ../shared/reference/eval-details.md).
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cvtk::metrics {

enum class ProtocolKind { kVoc07, kVoc, kCoco };

struct AreaRange {
  std::string name;
  double lo, hi;  // square pixels, both ends inclusive (as COCOeval)
};

struct Protocol {
  ProtocolKind kind = ProtocolKind::kVoc;

  // VOC protocols.
  double iou_threshold = 0.5;  // a detection matches when IoU > threshold (strict, as voc_eval)
  // Legacy pixel-index boxes: widths are x2 - x1 + 1. cvtk's continuous boxes already give the
  // devkit's numbers without it; use it only for boxes written in inclusive pixel indices.
  bool plus_one = false;
  int max_detections = 0;  // per image across classes, highest scores first; 0 keeps all

  // COCO protocol (pycocotools' values).
  std::vector<double> iou_thresholds;     // 0.5, 0.55, ..., 0.95 as numpy's linspace gives them
  std::vector<double> recall_thresholds;  // i * 0.01, i = 0..100
  std::vector<int> max_dets = {1, 10, 100};
  std::vector<AreaRange> area_ranges;  // all, small, medium, large

  // Both.
  double score_threshold = -std::numeric_limits<double>::infinity();  // detections below are dropped
  std::vector<std::string> classes;                                   // evaluate only these class names (empty: all)
  int threads = 0;                                                    // 0: all cores

  std::string name() const;
  // One line per setting: ("IoU threshold", "> 0.5"), ...
  std::vector<std::pair<std::string, std::string>> settings() const;
};

Protocol voc07_protocol();
Protocol voc_protocol();
Protocol coco_protocol();
// "voc07" | "voc" | "coco"; throws std::invalid_argument naming the choices otherwise.
Protocol protocol_by_name(const std::string& name);

}  // namespace cvtk::metrics

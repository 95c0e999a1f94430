#include "metrics/protocol.h"

#include <cstdio>
#include <stdexcept>

namespace cvtk::metrics {
namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

Protocol voc07_protocol() {
  Protocol p;
  p.kind = ProtocolKind::kVoc07;
  return p;
}

Protocol voc_protocol() {
  Protocol p;
  p.kind = ProtocolKind::kVoc;
  return p;
}

Protocol coco_protocol() {
  Protocol p;
  p.kind = ProtocolKind::kCoco;
  // numpy.linspace(.5, .95, 10): start + i * step with step = (stop - start) / 9, the last set to stop.
  const double step = (0.95 - 0.5) / 9;
  for (int i = 0; i < 10; ++i) p.iou_thresholds.push_back(i == 9 ? 0.95 : 0.5 + i * step);
  // numpy.linspace(0, 1, 101): i * 0.01, the last set to 1.
  for (int i = 0; i <= 100; ++i) p.recall_thresholds.push_back(i == 100 ? 1.0 : i * 0.01);
  p.area_ranges = {
      {"all", 0, 1e10}, {"small", 0, 32.0 * 32}, {"medium", 32.0 * 32, 96.0 * 96}, {"large", 96.0 * 96, 1e10}};
  return p;
}

Protocol protocol_by_name(const std::string& name) {
  if (name == "voc07") return voc07_protocol();
  if (name == "voc") return voc_protocol();
  if (name == "coco") return coco_protocol();
  throw std::invalid_argument("unknown protocol '" + name + "' (expected voc07, voc or coco)");
}

std::string Protocol::name() const {
  switch (kind) {
    case ProtocolKind::kVoc07:
      return "voc07";
    case ProtocolKind::kVoc:
      return "voc";
    case ProtocolKind::kCoco:
      return "coco";
  }
  return "?";
}

std::vector<std::pair<std::string, std::string>> Protocol::settings() const {
  std::vector<std::pair<std::string, std::string>> s;
  if (kind == ProtocolKind::kCoco) {
    s.push_back({"reference", "pycocotools COCOeval (bbox)"});
    s.push_back({"IoU thresholds", num(iou_thresholds.front()) + ":" +
                                       num(iou_thresholds.size() > 1 ? iou_thresholds[1] - iou_thresholds[0] : 0) +
                                       ":" + num(iou_thresholds.back()) + " (match when IoU >= t)"});
    s.push_back({"recall points", std::to_string(recall_thresholds.size()) + " (0:0.01:1)"});
    std::string md;
    for (int m : max_dets) md += (md.empty() ? "" : ", ") + std::to_string(m);
    s.push_back({"max detections", md + " per image per category"});
    std::string ar;
    for (const auto& a : area_ranges)
      ar += (ar.empty() ? "" : ", ") + a.name + " [" + num(a.lo) + ", " + num(a.hi) + "]";
    s.push_back({"area ranges", ar + " (annotation area for ground truth, box area for detections)"});
    s.push_back({"ignored", "crowd regions (matched by intersection over detection area)"});
  } else {
    s.push_back({"reference", "PASCAL VOC devkit (voc_eval port)"});
    s.push_back({"AP", kind == ProtocolKind::kVoc07 ? "11-point interpolated (VOC2007)" : "all-point area (VOC2010+)"});
    s.push_back({"IoU threshold", "> " + num(iou_threshold)});
    s.push_back(
        {"box widths", plus_one ? "x2 - x1 + 1 (legacy pixel indices)" : "x2 - x1 (continuous; equals the devkit's)"});
    s.push_back({"ignored", "difficult objects (neither TP nor FN; their matches neither TP nor FP)"});
    s.push_back({"tie order", "stable: equal scores keep file order"});
    if (max_detections > 0) s.push_back({"max detections", std::to_string(max_detections) + " per image"});
  }
  if (score_threshold > -std::numeric_limits<double>::infinity())
    s.push_back({"score threshold", ">= " + num(score_threshold)});
  if (!classes.empty()) {
    std::string c;
    for (const auto& n : classes) c += (c.empty() ? "" : ", ") + n;
    s.push_back({"classes", c});
  }
  return s;
}

}  // namespace cvtk::metrics

#include "detection/inference_options.h"

#include <stdexcept>

#include "augment/pipeline.h"
#include "detection/thundernet.h"
#include "vision/data/file_util.h"

namespace cvtk::detection {

std::string InferenceOptions::describe() const {
  return "size " + std::to_string(size) + ", score >= " + data::format_number(score_threshold) + ", " +
         (soft_nms ? "Soft-NMS " : "NMS ") + data::format_number(nms_iou) + ", max " + std::to_string(max_detections) +
         " per image, pipeline " + pipeline;
}

void InferenceOptions::check() const {
  auto bad = [](const std::string& field, const std::string& value, const std::string& rule) {
    throw std::invalid_argument(field + " " + value + ": " + rule);
  };
  if (size < 16 || size > 8192) bad("--size", std::to_string(size), "must be within [16, 8192]");
  if (!(score_threshold >= 0 && score_threshold <= 1))
    bad("score threshold", data::format_number(score_threshold), "must be within [0, 1]");
  if (!(nms_iou > 0 && nms_iou <= 1)) bad("--nms-iou", data::format_number(nms_iou), "must be within (0, 1]");
  if (max_detections < 1) bad("--max-dets", std::to_string(max_detections), "must be at least 1");
  augment::pipeline_from_text(pipeline);  // throws naming the bad token
}

void apply_inference_options(const InferenceOptions& inference, ThunderNetOptions& model) {
  model.rcnn.score_threshold = inference.score_threshold;
  model.rcnn.nms_iou = inference.nms_iou;
  model.rcnn.soft_nms = inference.soft_nms;
  model.rcnn.max_detections = inference.max_detections;
}

InferenceOptions with_overrides(InferenceOptions stored, const InferenceOverrides& o) {
  if (o.size) stored.size = *o.size;
  if (o.score_threshold) stored.score_threshold = *o.score_threshold;
  if (o.nms_iou) stored.nms_iou = *o.nms_iou;
  if (o.max_detections) stored.max_detections = *o.max_detections;
  if (o.soft_nms) stored.soft_nms = true;
  return stored;
}

}  // namespace cvtk::detection

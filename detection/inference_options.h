#pragma once
// One inference configuration: everything between a trained model's weights and its detections that
// changes the numbers. Validation inside `cvtk train`, `cvtk eval --weights` and `cvtk predict` all run
// the model with one of these, a checkpoint stores the one its training validated with, and each
// command prints it in its header (describe()), so the same checkpoint gives the same detections and
// the same figures everywhere.
//
// Detections come out of the model in original image pixels (the pipeline's matrix maps them back,
// DESIGN.md §3); score_threshold, NMS and max_detections act on the model's outputs per image, before
// anything a command does with them (predict's drawing threshold is a separate, later filter).
#include <optional>
#include <string>

namespace cvtk::detection {

struct ThunderNetOptions;

struct InferenceOptions {
  int size = 320;                 // square input side, pixels (the pipeline's stretch target)
  double score_threshold = 0.05;  // softmax score kept per class and box (the paper's 0.05)
  double nms_iou = 0.5;           // per-class NMS IoU threshold (Soft-NMS: its IoU parameter)
  bool soft_nms = false;          // linear Soft-NMS (sigma 0.5) instead of hard NMS
  int max_detections = 100;       // per image, highest scores first
  std::string pipeline = "eval";  // augment preset or spec run before the model (deterministic)

  // "size 320, score >= 0.05, NMS 0.5, max 100 per image, pipeline eval"
  std::string describe() const;
  // std::invalid_argument naming the field and its value when a value is out of range.
  void check() const;
};

// What a command or an application asks to change on top of a checkpoint's inference options (the
// --size, --score, --nms-iou, --max-dets and --soft-nms flags, cvtk::DetectorOptions); unset fields
// keep the checkpoint's values. The one place the overrides are applied, so every caller means the
// same by them.
struct InferenceOverrides {
  std::optional<int> size;
  std::optional<double> score_threshold, nms_iou;
  std::optional<int> max_detections;
  bool soft_nms = false;  // true: Soft-NMS whatever the checkpoint says; false: the checkpoint's choice
};
// `stored` with the overrides applied; not checked (InferenceOptions::check).
InferenceOptions with_overrides(InferenceOptions stored, const InferenceOverrides& overrides);

// The R-CNN head's inference fields of a model's options (score threshold, NMS, Soft-NMS, max detections).
void apply_inference_options(const InferenceOptions& inference, ThunderNetOptions& model);

}  // namespace cvtk::detection

#pragma once
// What `cvtk predict` and `cvtk eval --weights` do, as library calls the thin commands in apps/ use.
//
// predict: a model checkpoint + a source (one image, a directory of images, or a dataset) ->
//   <out>/predictions.json (COCO results, boxes in original image pixels, category ids of the
//   checkpoint's classes: label + 1 unless the source dataset has COCO ids), <out>/images.csv (image id,
//   file) and, unless disabled, <out>/images/<name>.jpg with boxes, class names and scores drawn.
// eval with a model: the checkpoint is run on the dataset's images and the detections evaluated with
//   the metrics library under the chosen protocols (and optionally saved as COCO results).
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "metrics/eval_files.h"

namespace cvtk::detection {

struct PredictFilesOptions {
  std::filesystem::path weights;
  std::filesystem::path source;
  std::string format = "auto";  // when the source is a dataset
  std::string split;
  std::filesystem::path out = "runs/predict";
  double score_threshold = 0.3;
  int size = 0;                 // 0: the checkpoint's size
  int batch = 8;
  int threads = 0;
  bool draw = true;
  int max_drawn = 0;            // 0: draw every image
  bool soft_nms = false;
  double nms_iou = 0.5;
  int max_detections = 100;
};

int run_predict(const PredictFilesOptions& options, std::ostream& out);

struct ModelEvalOptions {
  std::filesystem::path weights;
  metrics::EvalFilesOptions eval;   // ground truth in eval.ground_truth, protocols, writers
  std::filesystem::path save_detections;  // COCO results JSON of the model's detections
  int size = 0;
  int batch = 8;
  double score_threshold = 0.05;  // model-side threshold before evaluation (the references' 0.05)
  bool soft_nms = false;
};

int run_model_eval(const ModelEvalOptions& options, std::ostream& out);

}  // namespace cvtk::detection

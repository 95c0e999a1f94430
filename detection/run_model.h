#pragma once
// What `cvtk predict` and `cvtk eval --weights` do, as library calls the thin commands in apps/ use.
//
// Both run the checkpoint with its stored inference options (detection/inference_options.h: the ones
// its training validated with), changed only by the options given here, and print them in their header.
//
// predict: a model checkpoint + a source (predict_sources.h: an image, a directory of images, a glob,
//   a dataset, a video file or a camera index) -> <out>/predictions.json (COCO results, boxes in
//   original image pixels, category ids of the checkpoint's classes: label + 1 unless the source
//   dataset has COCO ids). For images: <out>/images.csv (image id, file, size, drawn image) and, unless
//   disabled, <out>/images/<path>.jpg with boxes, class names and scores drawn, named by the image's
//   path relative to the source (directories kept, so two x.jpg in different directories stay two
//   files); with save_txt <out>/labels/<path>.txt (YOLO lines, prediction_files.h), with save_crops
//   <out>/crops/<class>/<path>_<n>.jpg. For a video or camera: the drawn video and the per-frame
//   files predict_video.h describes; image_id is the frame number. The outputs are built beside <out>
//   and moved there at the end: they appear complete or not at all (a run stopped by Ctrl-C keeps the
//   frames done and returns 130). An <out> that holds an earlier run is left alone and a numbered
//   sibling used (runs/predict2), unless exist_ok, which replaces the earlier output whole.
//   Unreadable images or frames among readable ones are listed and skipped; a source with nothing
//   readable is an error and writes nothing.
// eval with a model: the checkpoint is run on the dataset's images and the detections evaluated with
//   the metrics library under the chosen protocols (and optionally saved as COCO results).
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "detection/inference_options.h"
#include "metrics/eval_files.h"

namespace cvtk::detection {

struct PredictFilesOptions {
  std::filesystem::path weights;
  std::filesystem::path source;
  std::string format = "auto";  // when the source is a dataset
  std::string split;
  std::filesystem::path out = "runs/predict";
  bool exist_ok = false;  // replace an earlier run's output at `out` instead of numbering
  // Output and drawing threshold, applied after the model (which keeps its own, lower one when it has).
  double score_threshold = 0.3;
  // Inference overrides; unset values keep the checkpoint's.
  int size = 0;            // 0: the checkpoint's size
  double nms_iou = -1;     // < 0: the checkpoint's
  int max_detections = 0;  // 0: the checkpoint's
  bool soft_nms = false;   // true: Soft-NMS whatever the checkpoint says
  int batch = 8;
  int threads = 0;
  bool draw = true;
  int max_drawn = 0;                 // 0: draw every image
  std::vector<std::string> classes;  // keep only these class names (the model's); empty: every class
  bool save_txt = false;             // YOLO label files
  bool save_conf = false;            // with save_txt: the score as a sixth column
  bool save_crops = false;           // each detection's pixels as a JPEG per class
  long max_frames = 0;               // video or camera: stop after this many frames; 0: the end / Ctrl-C
};

int run_predict(const PredictFilesOptions& options, std::ostream& out);

// The configuration predict runs for an output threshold: `inference` (the checkpoint's with the changes
// asked for) with its score threshold lowered to output_threshold when that is lower, so the model keeps
// every detection the output keeps. std::invalid_argument naming the flag when a value is out of range.
InferenceOptions predict_inference(InferenceOptions inference, double output_threshold);

// LibTorch's intra-op threads (process-wide) as predict and eval set them: `threads`, or every core when 0.
void set_inference_threads(int threads);

struct ModelEvalOptions {
  std::filesystem::path weights;
  metrics::EvalFilesOptions eval;         // ground truth in eval.ground_truth, protocols, writers
  std::filesystem::path save_detections;  // COCO results JSON of the model's detections
  // Inference overrides; unset values keep the checkpoint's.
  int size = 0;                 // 0: the checkpoint's size
  double score_threshold = -1;  // model-side threshold before evaluation; < 0: the checkpoint's
  bool soft_nms = false;        // true: Soft-NMS whatever the checkpoint says
  int batch = 8;
};

int run_model_eval(const ModelEvalOptions& options, std::ostream& out);

}  // namespace cvtk::detection

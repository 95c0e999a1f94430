#pragma once
// Runs a detector over a dataset's images and returns detections in original image coordinates.
//
// Images go through the inference options' pipeline (by default the augment preset "eval": a stretch
// resize to size x size, no randomness) in batches; each detection box is mapped back through its
// sample's matrix (DESIGN.md §3) and clipped to the original image. The model must have been built with
// the same inference options (checkpoint.h inference_model), so every caller runs one configuration.
#include <functional>
#include <vector>

#include <opencv2/core.hpp>

#include "augment/pipeline.h"
#include "detection/inference_options.h"
#include "detection/inference/thundernet_executor.h"
#include "vision/data/annotation.h"

namespace cvtk::detection {

struct PredictOptions {
  InferenceOptions inference;  // size and pipeline used here; thresholds must be the model's
  int batch = 8;
  int threads = 0;              // loader threads (0 = all cores)
  double output_threshold = 0;  // a later filter on the model's scores (predict's drawing threshold); 0: none
};

struct PredictStats {
  size_t images = 0, skipped = 0;
  std::vector<std::string> skipped_files;
  double seconds = 0, model_seconds = 0;
};

// The first max_listed entries of a list of failures ("a.jpg: reason"), joined by "; ", and how many
// more there are ("; ... and 7 more").
std::string skipped_list(const std::vector<std::string>& failures, size_t max_listed);

// Progress callback: images done, total.
using PredictProgress = std::function<void(size_t, size_t)>;

std::vector<data::Detection> predict_dataset(ThunderNetExecutor& model, const data::Dataset& dataset,
                                             const PredictOptions& options, PredictStats* stats = nullptr,
                                             const PredictProgress& progress = {});

// One image in memory as predict_dataset's loader prepares a decoded file (augment/loader.h, with
// decode_resized off): rgb (CV_8UC3) through `pipeline` at size x size, drawing from the stream of the
// dataset's first record (inference pipelines draw nothing), normalised with the loader's mean and std.
// Transforms may write into rgb's pixels, as they do into a decoded image: pass a Mat they may change.
struct PreparedImage {
  torch::Tensor batch;        // [1,3,H,W] float32
  cv::Matx33d to_original;    // batch-image coordinates -> rgb's pixels
  int width = 0, height = 0;  // rgb's size
};
PreparedImage prepare_image(cv::Mat rgb, const augment::Pipeline& pipeline, int size);

// One image's model output as predict_dataset returns it: boxes mapped through to_original and clipped
// to width x height, boxes left empty and scores below output_threshold dropped, the model's order kept.
std::vector<data::Detection> original_detections(const ImageDetections& detections, const cv::Matx33d& to_original,
                                                 int width, int height, double output_threshold, int64_t image_id);

}  // namespace cvtk::detection

#pragma once
// Runs a detector over a dataset's images and returns detections in original image coordinates.
//
// Images go through the inference options' pipeline (by default the augment preset "eval": a stretch
// resize to size x size, no randomness) in batches; each detection box is mapped back through its
// sample's matrix (DESIGN.md §3) and clipped to the original image. The model must have been built with
// the same inference options (checkpoint.h inference_model), so every caller runs one configuration.
#include <functional>
#include <vector>

#include "detection/inference_options.h"
#include "detection/thundernet.h"
#include "vision/data/annotation.h"

namespace cvtk::detection {

struct PredictOptions {
  InferenceOptions inference;     // size and pipeline used here; thresholds must be the model's
  int batch = 8;
  int threads = 0;                // loader threads (0 = all cores)
  double output_threshold = 0;    // a later filter on the model's scores (predict's drawing threshold); 0: none
};

struct PredictStats {
  size_t images = 0, skipped = 0;
  std::vector<std::string> skipped_files;
  double seconds = 0, model_seconds = 0;
};

// Progress callback: images done, total.
using PredictProgress = std::function<void(size_t, size_t)>;

std::vector<data::Detection> predict_dataset(ThunderNet& model, const data::Dataset& dataset,
                                             const PredictOptions& options, PredictStats* stats = nullptr,
                                             const PredictProgress& progress = {});

}  // namespace cvtk::detection

#pragma once
// Runs a detector over a dataset's images and returns detections in original image coordinates.
//
// Images go through the evaluation pipeline (augment preset "eval": a stretch resize to size x size,
// no randomness) in batches; each detection box is mapped back through its sample's matrix (DESIGN.md
// §3) and clipped to the original image.
#include <functional>
#include <vector>

#include "detection/thundernet.h"
#include "vision/data/annotation.h"

namespace cvtk::detection {

struct PredictOptions {
  int size = 320;                 // square input side
  int batch = 8;
  int threads = 0;                // loader threads (0 = all cores)
  double score_threshold = 0.05;  // applied after the model's own threshold
  std::string pipeline = "eval";
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

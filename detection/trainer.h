#pragma once
// Training a ThunderNet from the command line's options: data, model, optimiser, schedule, EMA,
// validation with the metrics library, checkpoints and logs in the run directory.
//
// Run directory (options.out): options.toml (resolved options), last.pt and best.pt (checkpoints,
// written atomically after every epoch; best = highest validation VOC mAP@0.5, or last without
// validation), results.csv and results.jsonl (one row per epoch).
//
// Failure behaviour: a non-finite loss stops the run with the batch's image ids and leaves the last
// good checkpoint untouched; SIGINT finishes the current step, writes last.pt with the position inside
// the epoch and returns (a later --resume continues from there with the same results as an
// uninterrupted run).
#include <ostream>

#include "detection/train_options.h"

namespace cvtk::detection {

struct TrainResult {
  int epochs_done = 0;
  long steps = 0;
  bool interrupted = false;      // SIGINT or the time limit
  double best_map50 = -1;        // VOC all-point mAP@0.5 of the best epoch (-1 without validation)
  double last_map50 = -1, last_coco_ap = -1;
  std::filesystem::path best, last;
};

// Non-finite losses throw std::runtime_error; bad data and options throw with file and field named.
TrainResult train(TrainOptions options, std::FILE* out = stdout);

}  // namespace cvtk::detection

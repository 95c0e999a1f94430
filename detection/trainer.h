#pragma once
// Training a ThunderNet from the command line's options: data, model, optimiser, schedule, EMA,
// validation with the metrics library, checkpoints and logs in the run directory.
//
// Run directory (options.out; when it already holds anything, the first free numbered sibling, runs/train2,
// unless options.exist_ok: vision/data/output_dir.h): options.toml (resolved options, paths absolute),
// last.pt and best.pt (checkpoints, written atomically after every epoch; best = highest validation VOC
// mAP@0.5, or last without validation), results.csv and results.jsonl (one row per epoch). Every option,
// dataset, the model name and the pipeline are checked before the directory is created, and a run that
// fails before its first checkpoint removes the directory it created.
//
// Validation runs the model exactly as `cvtk eval --weights` runs the checkpoint it is about to write
// (checkpoint.h inference_model, with the inference options the checkpoint stores), so the two agree.
//
// The parts: train_session.h sets a run up (options, resume from last.pt read once, datasets, model,
// optimiser, loader, schedule, the run directory); this file's epoch loop and step drive it;
// train_validation.h validates; train_log.h records each epoch in results.csv and results.jsonl;
// interrupt_guard.h turns Ctrl-C into a clean stop; train_optimizer.h and init_weights.h build the
// optimiser and load starting weights.
//
// Failure behaviour: a non-finite loss stops the run naming the batch's image files and leaves the last
// good checkpoint untouched; SIGINT (and --max-steps, --time-limit) finishes the current step, writes
// last.pt with the position inside the epoch and returns (a later --resume continues from there with
// the same results as an uninterrupted run).
#include <ostream>

#include "detection/train_options.h"

namespace cvtk::detection {

struct TrainResult {
  int epochs_done = 0;
  long steps = 0;
  bool interrupted = false;    // SIGINT only (the command exits 130)
  bool stopped_early = false;  // SIGINT, --max-steps or --time-limit stopped the run before --epochs
  std::string stop_reason;     // "interrupted", "step limit reached", "time limit reached"
  double best_map50 = -1;      // VOC all-point mAP@0.5 of the best epoch (-1 without validation)
  double last_map50 = -1, last_coco_ap = -1;
  std::filesystem::path best, last;  // empty when this run has not written that checkpoint
  std::filesystem::path out;         // the run directory (numbered when --out held an earlier run)
};

// Non-finite losses throw std::runtime_error; bad data and options throw with file and field named.
// In a torchrun-style environment (distributed/world.h) this process trains as its rank of a
// data-parallel run (detection/distributed/: Gloo on CPU, NCCL on CUDA); rank 0 alone writes the run
// directory and prints. A rank that dies or hangs makes the others throw
// distributed::DistributedError naming it within options.dist_timeout.
TrainResult train(TrainOptions options, std::FILE* out = stdout);

// `cvtk train --nproc N`: checks the options, then runs N local workers of this command line
// (distributed/launcher.h) and returns the exit code for the command.
int launch_training_workers(const TrainOptions& options);

}  // namespace cvtk::detection

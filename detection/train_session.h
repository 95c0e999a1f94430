#pragma once
// One invocation of `cvtk train`, set up: the resolved options (a resumed run's own, from its last.pt,
// read once), both datasets, the model, optimiser, EMA, loader and schedule, and the training state to
// continue from. Constructing it checks everything and creates nothing on disk; open_run_directory()
// then creates (or reopens) the run directory and its logs and prints the run's header.
//
// The run directory (trainer.h has the layout): a new run never writes into one that holds an earlier
// run (a numbered sibling is used) unless --exist-ok; a run that fails before its first checkpoint
// removes what it created, parents included (mark_checkpoint_written() ends that).
#include <cstdio>
#include <memory>

#include "augment/loader.h"
#include "augment/pipeline.h"
#include "detection/checkpoint.h"
#include "detection/lr_schedule.h"
#include "detection/train_log.h"
#include "detection/train_options.h"
#include "vision/data/output_dir.h"

namespace cvtk::detection {

class TrainSession {
 public:
  TrainSession(TrainOptions options, std::FILE* out);
  ~TrainSession();
  TrainSession(const TrainSession&) = delete;
  TrainSession& operator=(const TrainSession&) = delete;

  void open_run_directory();
  // A checkpoint of this run exists now: the run directory is kept whatever happens next.
  void mark_checkpoint_written();
  // The file names of the given images of the training set, for messages ("a.jpg b.jpg").
  std::string image_files(const std::vector<int64_t>& ids) const;

  TrainOptions options;  // resolved: paths absolute, out = the run directory once opened
  bool resuming = false;
  std::string options_text;  // options.toml, as stored in every checkpoint
  data::Dataset train_set, val_set;
  bool validate_on = false;
  ModelInfo info;
  torch::Device device{torch::kCPU};
  ThunderNet model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<ModelEma> ema;
  augment::Pipeline pipeline;
  std::unique_ptr<augment::Loader> loader;
  long steps_per_epoch = 0;
  std::unique_ptr<LrSchedule> schedule;
  TrainState state;
  data::OutputDir run_dir;
  std::unique_ptr<EpochLog> csv, jsonl;

 private:
  std::FILE* out_;
  size_t cache_mb_ = 0;
  // What open_run_directory created, undone on destruction until a checkpoint is written.
  bool fresh_ = false, kept_ = false;
  std::filesystem::path created_;
};

}  // namespace cvtk::detection

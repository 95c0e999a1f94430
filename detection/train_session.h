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
#include "detection/distributed/world.h"
#include "detection/ground_truth.h"
#include "detection/lr_schedule.h"
#include "detection/train_defaults.h"
#include "detection/train_log.h"
#include "detection/train_options.h"
#include "vision/data/output_dir.h"

namespace cvtk::detection {

// A training batch's ground truth on `device`. Each image's anchor and RoI sampling draws from its
// own stream, augment::Rng(seed, step, record, 3) (GroundTruth::sampling_seed), so an image is
// sampled the same whether one process or W train the global batch of that step.
std::vector<GroundTruth> training_targets(const augment::Batch& batch, torch::Device device, uint64_t seed, long step);

class TrainSession {
 public:
  // world: this process's place in a data-parallel run (one process by default). Each rank trains
  // on its shard of every epoch (distributed/sharded_sampler.h) with the learning rate scaled by the
  // world size; only rank 0 opens the run directory.
  TrainSession(TrainOptions options, std::FILE* out, const distributed::World& world = {});
  ~TrainSession();
  TrainSession(const TrainSession&) = delete;
  TrainSession& operator=(const TrainSession&) = delete;

  void open_run_directory();
  // Sets the run's length (a --time plan): the schedule, the step epochs and an unset EMA follow it,
  // and options.toml and later checkpoints record it.
  void set_epochs(int epochs);
  // options.toml: the options, after comment lines naming the flags chosen from the data and a --time plan.
  std::string saved_options_text() const;
  // Ranks other than 0: the run directory rank 0 opened (for messages; they write nothing).
  void adopt_run_directory(const std::filesystem::path& dir);
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
  distributed::World world;
  double lr_scale = 1;                         // the schedule's rates are options.schedule's x lr_scale (= world size)
  std::vector<DefaultChoice> defaults_chosen;  // what train_defaults.h chose, printed in the header
  // Unset on the command line: a --time plan may change them with the length.
  bool ema_unset = false, steps_unset = false;
  bool time_planned = false;  // set_epochs made a --time plan: options.toml says so and holds no budget

 private:
  void make_loader(const TrainOptions& options, int cores);
  // A resumed run with another world size: where in the epoch it continues.
  void continue_position(int saved_world, int batch);

  std::FILE* out_;
  size_t cache_mb_ = 0;
  int loader_threads_ = 0;
  std::string resize_note_;
  // What open_run_directory created, undone on destruction until a checkpoint is written.
  bool fresh_ = false, kept_ = false;
  std::filesystem::path created_;
};

}  // namespace cvtk::detection

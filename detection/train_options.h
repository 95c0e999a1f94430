#pragma once
// Everything `cvtk train` can be told, with the defaults it uses. The same keys, spelled as the
// command's long flags, make up the run's options.toml (CLI11 config syntax), which `--config` reads
// back and a checkpoint stores so `--resume` continues with exactly the options the run started with.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "detection/inference_options.h"
#include "detection/lr_schedule.h"

namespace cvtk::detection {

struct TrainOptions {
  std::filesystem::path data;  // dataset: VOC dir, COCO json or YOLO dir
  std::string format = "auto";
  std::filesystem::path val_data;  // optional separate validation dataset (default: data)
  std::string train_split = "train";
  std::string val_split = "val";  // "none" disables validation
  // Values marked "unset" are chosen from the training set when the session starts (train_defaults.h)
  // and stored resolved, so options.toml and the checkpoints always hold concrete values.
  std::string model = "thundernet-snet49";
  int num_fc = 1;
  int rcnn_rois = 0;  // RoIs sampled per image for the R-CNN loss (25% foreground at most); 0 unset
  int epochs = 0;     // 0 unset (with time_minutes: planned from the measured pace)
  int batch = 8;
  int size = 0;                   // evaluation side; also training side without multiscale; 0 unset
  std::vector<int> multiscale;    // training sides, one chosen per batch (ThunderNet: 240,320,480)
  std::string pipeline = "auto";  // a preset or spec (augment/pipeline.h); "auto" unset
  // lr, schedule kind, steps, warm-up; unset: lr 0, kind "auto", warm-up -1
  LrScheduleOptions schedule = {0, "auto", {}, 0.1, 0.01, -1, 0.001};
  std::string optimizer = "sgd";       // sgd (momentum) or adamw (decoupled weight decay)
  double momentum = 0.9;               // sgd: momentum; adamw: beta1
  double weight_decay = 1e-4;          // on weights with more than one dimension only
  double ema = -1;                     // EMA decay (0 disables), e.g. 0.9998; -1 unset
  double ema_ramp = 2000;              // EMA warm-up in updates (ema.h)
  double clip_grad = 0;                // max gradient L2 norm (0 disables)
  int freeze_stages = 0;               // backbone stages kept frozen (with --init-weights)
  bool freeze_bn = false;              // backbone BatchNorm in inference mode
  std::filesystem::path init_weights;  // weights only: a cvtk checkpoint or a state-dict file
  std::filesystem::path out = "runs/train";
  std::filesystem::path resume;  // run directory to continue (its last.pt)
  int val_every = 1;
  uint64_t seed = 0;
  int threads = 0;         // LibTorch intra-op threads (0 = all cores)
  int loader_threads = 0;  // TBB threads of the loader (0 = all cores)
  int cache_mb = -1;       // decoded training images kept in memory, MiB (0 = none, -1 = auto:
                           // an eighth of the memory available at start, at most 1024)
  std::string device = "cpu";
  // Data parallel (detection/distributed/): `batch` and `lr` are one process's; with W processes the
  // global batch is W x batch and the learning rate W x lr (linear scaling rule). Launched by --nproc
  // (not stored: an invocation's choice) or by a torchrun-style environment.
  int nproc = 1;                  // local worker processes `cvtk train` starts itself (1: this process trains)
  bool sync_bn = false;           // BatchNorm statistics over the global batch (all-reduced in the forward)
  double dist_timeout = 300;      // seconds a collective or the rendezvous waits before the run fails
  double time_minutes = 0;        // --time: epochs planned so the whole schedule ends within it (time_budget.h)
  double time_limit_minutes = 0;  // stop (checkpointing) once exceeded; 0 = no limit
  int log_every = 20;             // plain-line progress every N steps when not on a terminal
  int max_steps = 0;              // stop after this many optimiser steps in total (tests); 0 = none
  // Inference as validation runs it, stored in every checkpoint as the one eval and predict start from
  // (inference_options.h; the size is `size`, the pipeline "eval").
  double score_threshold = 0.05;
  double nms_iou = 0.5;
  bool soft_nms = false;
  int max_detections = 100;
  // Not part of options.toml: how this invocation treats an existing non-empty --out (output_dir.h).
  bool exist_ok = false;
};

// Every value a run would use, checked before anything is read or created: std::invalid_argument
// naming the flag and the value ("--momentum 2: must be within [0, 1)"). The pipeline and the model
// name are resolved here too, so a misspelt one fails naming --pipeline or --model.
void check_train_options(const TrainOptions& options);

// The inference options validation uses (and checkpoints store) for these training options.
InferenceOptions validation_inference(const TrainOptions& options);

// TOML text of the options (keys = long flag names) and back; unknown keys are an error naming them.
// Keys missing from the text keep their defaults (options.toml files of older versions read back).
std::string to_config_text(const TrainOptions& options);
TrainOptions from_config_text(const std::string& text, const std::string& source);

}  // namespace cvtk::detection

#pragma once
// The options `cvtk train` chooses from the training set when the user leaves them unset, each with
// the reason it prints. Users of small datasets rarely tune; a default that suits a 640x480 photo of
// 13 blood cells is wrong for a 2000x1500 photo of one car, so the defaults follow what the data
// measures (image and box sizes, objects per image, image count) instead of being constants.
//
// Unset is spelled in TrainOptions itself (train_options.h): size 0, rcnn_rois 0, epochs 0, lr 0,
// schedule "auto", warmup -1, ema -1, pipeline "auto". resolve_train_defaults replaces every unset
// value with a concrete one, so options.toml and the checkpoints hold what the run really used and a
// resumed or --config run repeats it exactly.
//
// The rules (why each holds is in train_defaults.cpp beside it):
//   size        the smallest multiple of 32 (at least 320, or the images' own long side when smaller;
//               at most 640) at which a tenth of the boxes of every class (with 10 boxes or more)
//               still span 24 px on their short side
//   rcnn_rois   32 per object of the average image, a power of two within [64, 512]
//   epochs      about 12,000 training images seen, within [12, 300] epochs (--time plans its own)
//   lr          SGD 0.1, AdamW 0.001, for a batch of 8 and linear in the batch; a fifth of that when
//               starting from --init-weights; with schedule "cosine" to 1% of it
//   warmup      two epochs of steps within [100, 300]
//   ema         on, with an averaging horizon of a tenth of the run's steps (ema_defaults below)
//   pipeline    the ThunderNet training preset ("thundernet-train")
#include <string>
#include <vector>

#include "detection/train_options.h"
#include "vision/data/annotation.h"

namespace cvtk::detection {

struct DefaultChoice {
  std::string flag;    // "--size"
  std::string value;   // "416"
  std::string reason;  // "a tenth of the boxes are shorter than 37 px at 640x480; at 416 they span 24 px"
};

// Fills every unset option of `options` from `train` (the training split) and returns what it chose,
// in flag order. steps_per_epoch is the loader's (for the warm-up and EMA rules); 0 when not known
// yet, in which case it is estimated from the image count and the batch.
std::vector<DefaultChoice> resolve_train_defaults(TrainOptions& options, const data::Dataset& train,
                                                  long steps_per_epoch = 0);

// The EMA decay and ramp for a run of total_steps optimiser steps: averaging over the last tenth of
// the run (decay 1 - 1 / horizon) and a ramp (ema.h) a twentieth of the run long, so the average
// forgets the random start within the first quarter. A fixed decay such as 0.9998 averages over
// 5,000 steps, longer than a whole 30-minute run on a small dataset.
struct EmaSetting {
  double decay = 0;
  double ramp = 0;  // updates
};
EmaSetting ema_defaults(long total_steps);

// "--size 416 (reason)" lines, one per choice, for the run's header.
std::string describe(const std::vector<DefaultChoice>& choices);

}  // namespace cvtk::detection

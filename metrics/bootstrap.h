#pragma once
// How much a detection figure would move if the validation images were another sample of the same
// kind: the image-level bootstrap of mAP@0.5 (VOC all-point), COCO AP@[.50:.95] and COCO AP50.
//
// Each replicate draws N images with replacement from the N ground-truth images and evaluates the
// drawn images as a dataset of their own (metrics::evaluate): an image drawn twice counts twice, with
// its objects and its detections, and an image not drawn is absent. The spread of the replicate values
// estimates the sampling error of the figure as a statistic of the validation images.
//
// What it captures: the variation due to which images happen to be in the validation set, with the
// detector held fixed. What it does not: the variation of training (seed, data order, augmentation,
// the epoch chosen), which also moves the figure from one run or epoch to the next; nor correlation
// between images (frames of one video, crops of one slide), which makes it too small. With few
// images per class the bootstrap distribution is lumpy and the interval only a rough guide.
//
// Units: the figures' own, fractions in [0, 1] (not percent).
//
// Undefined replicates: a figure is a mean over the classes that have ground truth in the original
// data. A replicate in which one of those classes has no ground truth (none of its images drawn)
// would average over other classes; it is skipped for that figure and counted in `skipped`, as is one
// whose figure is -1. The s.d. and percentiles are over the remaining replicates.
//
// Determinism: the draws come from splitmix64 seeded by (seed, replicate index), and an index in
// [0, N) from rejection sampling, so the result is the same on every machine, compiler and thread
// count; the replicates may run in parallel, each stored at its index.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::metrics {

struct BootstrapFigure {
  double value = -1;  // on the original (not resampled) images; -1: undefined (no ground truth)
  // Sample standard deviation (denominator n - 1) over the replicates that define the figure; -1
  // when fewer than 2 do.
  double sd = -1;
  // Percentiles 2.5 and 97.5 of those replicates, linear between order statistics: with the n values
  // sorted, x[0] .. x[n-1], percentile p is x[h] interpolated at h = p / 100 * (n - 1) (numpy's
  // default, R's type 7). -1 when fewer than 2 replicates define the figure.
  double lo = -1, hi = -1;
  size_t skipped = 0;           // replicates where the figure is undefined (see above)
  std::vector<double> samples;  // one per replicate, in replicate order; -1 where skipped
};

struct BootstrapOptions {
  int replicates = 200;  // B, at least 2
  uint64_t seed = 0;
  int threads = 0;  // replicates evaluated at once; 0: all cores. The result does not depend on it.
};

struct BootstrapResult {
  BootstrapFigure map50;      // VOC all-point mAP at IoU 0.5 (voc_protocol)
  BootstrapFigure coco_ap;    // COCO AP@[.50:.95] (coco_protocol, summary[0])
  BootstrapFigure coco_ap50;  // COCO AP50 (coco_protocol, summary[1])
  size_t replicates = 0;      // B
  size_t images = 0;          // N, the ground-truth images resampled
  uint64_t seed = 0;
};

// Detections refer to ground-truth images by ImageRecord::id, as for metrics::evaluate, whose
// std::invalid_argument they raise when they do not. std::invalid_argument also for fewer than 2
// replicates and for a ground truth without images.
BootstrapResult bootstrap(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections,
                          const BootstrapOptions& options = {});

// One line on mAP@0.5 for the end of a training run, e.g.
// "mAP@0.5 0.842 +/- 0.021 (s.d. over 200 bootstrap resamples of the 73 validation images; 95% 0.803-0.879)".
std::string describe(const BootstrapResult& result);

}  // namespace cvtk::metrics

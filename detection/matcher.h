#pragma once
// Assigns every reference box (anchor or proposal) to a ground-truth box by IoU.
//
// For each reference: its best ground truth if that IoU >= high; background if the IoU < low;
// ignored in between (between the two thresholds, RPN 0.3..0.7). With allow_low_quality, every ground
// truth additionally claims the references that reach its own highest IoU (ties included), so a small or
// oddly shaped object still gets a positive anchor (Faster R-CNN's rule, also in the official ThunderNet
// configuration).
#include <optional>

#include <torch/types.h>

namespace cvtk::detection {

struct MatcherOptions {
  double high = 0.7;
  double low = 0.3;
  bool allow_low_quality = true;
};

struct Match {
  static constexpr int64_t kBackground = -1;
  static constexpr int64_t kIgnore = -2;
  torch::Tensor index;  // [N] int64: ground-truth index, kBackground or kIgnore
  torch::Tensor iou;    // [N] float: the best IoU of each reference (0 without ground truth)
};

// iou: [G, N] (ground truth x references). G may be 0: everything is background.
Match match_boxes(const torch::Tensor& iou, int64_t num_references, const MatcherOptions& options);

// Picks at most `batch` references of which at most fraction * batch are positive (index >= 0);
// negatives (kBackground) fill the rest. Sampling uses `generator`, or the default torch generator
// when none is given, so a run is reproducible from its seed and a checkpoint restores the stream.
// Returns (positive, negative) index tensors into the references.
std::pair<torch::Tensor, torch::Tensor> sample_balanced(const torch::Tensor& match_index, int64_t batch,
                                                        double positive_fraction,
                                                        c10::optional<at::Generator> generator = c10::nullopt);

// A CPU generator for one image's sampling: seeded with `seed` mixed with `stream` (one per sampler),
// or none (the default generator) without a seed.
c10::optional<at::Generator> sampling_generator(const std::optional<uint64_t>& seed, uint64_t stream);

}  // namespace cvtk::detection

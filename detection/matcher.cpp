#include "detection/matcher.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace cvtk::detection {

Match match_boxes(const torch::Tensor& iou, int64_t num_references, const MatcherOptions& options) {
  Match m;
  if (iou.size(0) == 0) {
    m.index = torch::full({num_references}, Match::kBackground, torch::kInt64);
    m.iou = torch::zeros({num_references}, torch::kFloat32);
    return m;
  }
  auto [best, best_gt] = iou.max(0);
  auto index = best_gt.clone();
  index.masked_fill_(best < options.high, Match::kIgnore);
  index.masked_fill_(best < options.low, Match::kBackground);
  if (options.allow_low_quality) {
    auto gt_best = std::get<0>(iou.max(1, true));  // [G, 1]
    // References whose IoU equals some ground truth's best (and is positive) take their best match.
    auto claimed = ((iou == gt_best) & (iou > 0)).any(0);
    index = torch::where(claimed, best_gt, index);
  }
  m.index = index;
  m.iou = best;
  return m;
}

std::pair<torch::Tensor, torch::Tensor> sample_balanced(const torch::Tensor& match_index, int64_t batch,
                                                        double positive_fraction,
                                                        c10::optional<at::Generator> generator) {
  auto pos = torch::nonzero(match_index >= 0).view(-1);
  auto neg = torch::nonzero(match_index == Match::kBackground).view(-1);
  const int64_t num_pos = std::min<int64_t>(pos.numel(), int64_t(batch * positive_fraction));
  const int64_t num_neg = std::min<int64_t>(neg.numel(), batch - num_pos);
  if (pos.numel() > num_pos)
    pos = pos.index_select(0, torch::randperm(pos.numel(), generator, torch::kInt64).narrow(0, 0, num_pos));
  if (neg.numel() > num_neg)
    neg = neg.index_select(0, torch::randperm(neg.numel(), generator, torch::kInt64).narrow(0, 0, num_neg));
  return {pos, neg};
}

c10::optional<at::Generator> sampling_generator(const std::optional<uint64_t>& seed, uint64_t stream) {
  if (!seed) return c10::nullopt;
  // splitmix64 finaliser: nearby seeds (consecutive steps, records) give unrelated streams.
  uint64_t z = *seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return at::make_generator<at::CPUGeneratorImpl>(z ^ (z >> 31));
}

}  // namespace cvtk::detection

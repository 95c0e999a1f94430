#include "detection/nms_generic.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

namespace cvtk::detection {
namespace {

constexpr int64_t kIouRows = 1024;        // rows of the IoU matrix made at a time (bounds the float temporaries)
constexpr int64_t kKeepCheckEvery = 64;   // boxes between the host round trips that stop at max_keep
constexpr int64_t kAliveCheckEvery = 32;  // soft-NMS picks between the host round trips that stop when none is left

// v rounded to the boxes' dtype, as the kernels round their thresholds: a float32 IoU is then compared
// with the same number whether ATen compares in float or in double.
c10::Scalar in_dtype(double v, torch::ScalarType t) { return t == torch::kFloat ? double(float(v)) : v; }

// Indices by descending score, ties lower index first: a stable sort, as the kernels' std::stable_sort.
torch::Tensor visiting_order(const torch::Tensor& scores) {
  return std::get<1>(scores.sort(c10::optional<bool>(true), 0, true));
}

// suppress[i][j] for boxes in visiting order: box i, when kept, removes box j (IoU > threshold; and the
// same label when labels are given). Only j > i is ever read, so each block of rows is computed from its
// diagonal on and the rest of the matrix is left unset.
torch::Tensor suppression_matrix(const torch::Tensor& boxes, double iou_threshold, const torch::Tensor& labels) {
  const int64_t n = boxes.size(0);
  const auto threshold = in_dtype(iou_threshold, boxes.scalar_type());
  auto out = torch::empty({n, n}, boxes.options().dtype(torch::kBool));
  for (int64_t r = 0; r < n; r += kIouRows) {
    const int64_t m = std::min(kIouRows, n - r);
    auto rows = box_iou(boxes.narrow(0, r, m), boxes.narrow(0, r, n - r)).gt(threshold);
    if (labels.defined())
      rows = rows.logical_and(labels.narrow(0, r, m).unsqueeze(1).eq(labels.narrow(0, r, n - r).unsqueeze(0)));
    out.narrow(0, r, m).narrow(1, r, n - r).copy_(rows);
  }
  return out;
}

// Greedy NMS on the suppression matrix: the positions (in visiting order) of the kept boxes, at most
// max_keep of them when max_keep >= 0.
torch::Tensor greedy_keep(const torch::Tensor& suppress, int64_t max_keep) {
  const int64_t n = suppress.size(0);
  auto removed = torch::zeros({n}, suppress.options());
  for (int64_t i = 0; i + 1 < n; ++i) {
    // Box i's fate is final now: unless removed, it removes the later boxes it suppresses.
    const int64_t rest = n - i - 1;
    removed.narrow(0, i + 1, rest)
        .logical_or_(suppress[i].narrow(0, i + 1, rest).logical_and(removed[i].logical_not()));
    // Boxes 0..i are decided; once they hold max_keep kept boxes the rest cannot enter the result.
    if (max_keep > 0 && (i + 1) % kKeepCheckEvery == 0 &&
        i + 1 - removed.narrow(0, 0, i + 1).sum().item<int64_t>() >= max_keep)
      break;
  }
  auto keep = removed.logical_not().nonzero().view(-1);
  return max_keep >= 0 && keep.numel() > max_keep ? keep.narrow(0, 0, max_keep) : keep;
}

// Soft-NMS over all boxes; with labels, a pick decays only boxes of its own label, which runs each label's
// soft-NMS unchanged (picks of other labels never touch it). The picks come out in the contract's order
// (decayed score descending, ties lower index) with no sort: decays only lower scores, so each later pick
// scores at most the current one, and on a tie has the higher index (else it would have been picked first).
SoftNmsResult soft_nms_all(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                           double iou_threshold, double sigma, double min_score, SoftNmsMethod method) {
  const int64_t n = boxes.size(0);
  const auto t = scores.scalar_type();
  const auto threshold = in_dtype(iou_threshold, t), spread = in_dtype(sigma, t), lowest = in_dtype(min_score, t);
  const auto index_options = scores.options().dtype(torch::kLong);
  auto score = scores.clone();
  auto alive = score.lt(lowest).logical_not();  // the kernel's !(score < min_score): a NaN stays
  const int64_t most = n == 0 ? 0 : alive.sum().item<int64_t>();
  auto keep = torch::full({most}, -1, index_options);
  auto kept = torch::empty({most}, scores.options());
  const auto rank = torch::arange(n, 0, -1, index_options);  // n .. 1: higher for lower indices
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < most; ++k) {
    if (k > 0 && k % kAliveCheckEvery == 0 && !alive.any().item<bool>()) break;
    // The live box with the highest score, ties lower index: the ranks make the argmax unique. A NaN score
    // ranks below every number, so it cannot hide the others from max().
    const auto current = score.masked_fill(alive.logical_not().logical_or(score.isnan()), -inf);
    const auto tied = alive.logical_and(current.eq(current.max()));
    const auto best = (tied * rank).argmax().view(1);
    keep.narrow(0, k, 1).copy_(torch::where(tied.any(), best, -1));  // -1 once no box is left
    kept.narrow(0, k, 1).copy_(score.index_select(0, best));
    alive.index_fill_(0, best, false);
    const auto iou = box_iou(boxes.index_select(0, best), boxes).view(-1);
    auto weight = method == SoftNmsMethod::linear ? torch::where(iou.ge(threshold), 1 - iou, torch::ones_like(iou))
                                                  : torch::exp(-(iou * iou) / spread);
    if (labels.defined())
      weight = torch::where(labels.eq(labels.index_select(0, best)), weight, torch::ones_like(weight));
    score = score * weight;
    alive = alive.logical_and(score.lt(lowest).logical_not());
  }
  const int64_t count = most == 0 ? 0 : keep.ge(0).sum().item<int64_t>();  // the picks are a prefix
  return {keep.narrow(0, 0, count), kept.narrow(0, 0, count)};
}

}  // namespace

torch::Tensor nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                          int64_t max_keep) {
  if (boxes.size(0) == 0 || max_keep == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  const auto order = visiting_order(scores);
  const auto suppress = suppression_matrix(boxes.index_select(0, order), iou_threshold, torch::Tensor());
  return order.index_select(0, greedy_keep(suppress, max_keep));
}

torch::Tensor batched_nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                                  double iou_threshold) {
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  // Kept boxes in visiting order are already the contract's order: score descending, ties lower index.
  const auto order = visiting_order(scores);
  const auto sorted_labels = labels.to(boxes.device()).index_select(0, order);
  const auto suppress = suppression_matrix(boxes.index_select(0, order), iou_threshold, sorted_labels);
  return order.index_select(0, greedy_keep(suppress, -1));
}

SoftNmsResult soft_nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                               double sigma, double min_score, SoftNmsMethod method) {
  return soft_nms_all(boxes, scores, torch::Tensor(), iou_threshold, sigma, min_score, method);
}

SoftNmsResult batched_soft_nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores,
                                       const torch::Tensor& labels, double iou_threshold, double sigma,
                                       double min_score, SoftNmsMethod method) {
  return soft_nms_all(boxes, scores, labels.to(boxes.device()), iou_threshold, sigma, min_score, method);
}

}  // namespace cvtk::detection

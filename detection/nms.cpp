#include "detection/nms.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "detection/nms_generic.h"

namespace cvtk::detection {
namespace {

void check_boxes(const char* op, const torch::Tensor& boxes, const torch::Tensor& scores) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, op, ": boxes should be [N, 4], got ", boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), op,
              ": scores should be [N] with N = ", boxes.size(0), ", got ", scores.sizes());
  TORCH_CHECK(boxes.scalar_type() == torch::kFloat || boxes.scalar_type() == torch::kDouble, op,
              ": boxes should be float32 or float64, got ", boxes.scalar_type());
  TORCH_CHECK(boxes.scalar_type() == scores.scalar_type(), op, ": boxes and scores should have the same dtype, got ",
              boxes.scalar_type(), " and ", scores.scalar_type());
  TORCH_CHECK(boxes.device() == scores.device(), op, ": boxes and scores should be on the same device, got ",
              boxes.device(), " and ", scores.device());
}

void check_labels(const char* op, const torch::Tensor& boxes, const torch::Tensor& labels) {
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == boxes.size(0), op,
              ": labels should be [N] with N = ", boxes.size(0), ", got ", labels.sizes());
  TORCH_CHECK(!labels.is_floating_point(), op, ": labels should be an integer tensor, got ", labels.scalar_type());
  TORCH_CHECK(labels.device() == boxes.device(), op, ": labels should be on the boxes' device, got ", labels.device(),
              " and ", boxes.device());
}

// Indices 0..n-1 by descending score, ties by lower index.
template <typename T>
std::vector<int64_t> score_order(const T* s, int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [s](int64_t a, int64_t b) { return s[a] > s[b]; });
  return order;
}

// Boxes copied in a given order, structure of arrays, with their areas.
template <typename T>
struct BoxList {
  std::vector<T> x1, y1, x2, y2, area;
  std::vector<int64_t> index;
  BoxList(const T* b, const std::vector<int64_t>& order)
      : x1(order.size()), y1(order.size()), x2(order.size()), y2(order.size()), area(order.size()), index(order) {
    for (size_t k = 0; k < order.size(); ++k) {
      const T* q = b + 4 * order[k];
      x1[k] = q[0], y1[k] = q[1], x2[k] = q[2], y2[k] = q[3];
      area[k] = (q[2] - q[0]) * (q[3] - q[1]);
    }
  }
  // IoU of entries a and b, computed as torchvision does (same operations, same rounding).
  T iou(size_t a, size_t b) const {
    const T w = std::max(T(0), std::min(x2[a], x2[b]) - std::max(x1[a], x1[b]));
    const T h = std::max(T(0), std::min(y2[a], y2[b]) - std::max(y1[a], y1[b]));
    const T inter = w * h;
    return inter / (area[a] + area[b] - inter);
  }
  void move(size_t from, size_t to) {
    x1[to] = x1[from], y1[to] = y1[from], x2[to] = x2[from], y2[to] = y2[from], area[to] = area[from];
    index[to] = index[from];
  }
};

// Greedy NMS over boxes already in visiting order. Each kept box marks the boxes after it in one
// branch-free (vectorisable) pass; the list is compacted when a quarter of what is left has died, so the
// cost stays about the sum over kept boxes of the boxes still alive.
template <typename T>
void greedy_nms(const T* boxes, const std::vector<int64_t>& order, T threshold, std::vector<int64_t>& keep,
                size_t max_keep = SIZE_MAX) {
  BoxList<T> list(boxes, order);
  std::vector<uint8_t> dead(order.size(), 0);
  size_t alive = order.size(), dead_since_compaction = 0;
  for (size_t pos = 0; pos < alive; ++pos) {
    if (dead[pos]) continue;
    keep.push_back(list.index[pos]);
    if (keep.size() == max_keep) break;  // keep starts empty: this is the max_keep-th kept box
    const T ix1 = list.x1[pos], iy1 = list.y1[pos], ix2 = list.x2[pos], iy2 = list.y2[pos], iarea = list.area[pos];
    const T *x1 = list.x1.data(), *y1 = list.y1.data(), *x2 = list.x2.data(), *y2 = list.y2.data();
    const T* area = list.area.data();
    uint8_t* d = dead.data();
    size_t killed = 0;
    for (size_t r = pos + 1; r < alive; ++r) {
      const T xx1 = x1[r] > ix1 ? x1[r] : ix1, yy1 = y1[r] > iy1 ? y1[r] : iy1;
      const T xx2 = x2[r] < ix2 ? x2[r] : ix2, yy2 = y2[r] < iy2 ? y2[r] : iy2;
      const T w = xx2 - xx1 > T(0) ? xx2 - xx1 : T(0), h = yy2 - yy1 > T(0) ? yy2 - yy1 : T(0);
      const T inter = w * h;
      const uint8_t kill = inter / (iarea + area[r] - inter) > threshold;
      killed += kill & ~d[r] & 1;
      d[r] |= kill;
    }
    dead_since_compaction += killed;
    if (4 * dead_since_compaction > alive - pos) {
      size_t write = pos + 1;
      for (size_t r = pos + 1; r < alive; ++r)
        if (!d[r]) {
          if (write != r) list.move(r, write), d[write] = 0;
          ++write;
        }
      alive = write;
      dead_since_compaction = 0;
    }
  }
}

// Soft-NMS over the boxes `order` (any order); appends kept indices and decayed scores.
template <typename T>
void soft_nms_group(const T* boxes, const T* scores, const std::vector<int64_t>& order, T threshold, T sigma,
                    T min_score, SoftNmsMethod method, std::vector<int64_t>& keep, std::vector<T>& kept_scores) {
  std::vector<int64_t> live;
  for (int64_t k : order)
    if (!(scores[k] < min_score)) live.push_back(k);
  BoxList<T> list(boxes, live);
  std::vector<T> score(live.size());
  for (size_t k = 0; k < live.size(); ++k) score[k] = scores[live[k]];
  size_t alive = live.size();
  for (size_t i = 0; i < alive; ++i) {
    size_t best = i;
    for (size_t k = i + 1; k < alive; ++k)
      if (score[k] > score[best] || (score[k] == score[best] && list.index[k] < list.index[best])) best = k;
    if (best != i) {
      std::swap(list.x1[i], list.x1[best]), std::swap(list.y1[i], list.y1[best]);
      std::swap(list.x2[i], list.x2[best]), std::swap(list.y2[i], list.y2[best]);
      std::swap(list.area[i], list.area[best]), std::swap(list.index[i], list.index[best]);
      std::swap(score[i], score[best]);
    }
    keep.push_back(list.index[i]);
    kept_scores.push_back(score[i]);
    for (size_t k = i + 1; k < alive; ++k) {
      const T iou = list.iou(i, k);
      T weight = 1;
      if (method == SoftNmsMethod::linear) {
        if (iou >= threshold) weight = 1 - iou;
      } else {
        weight = std::exp(-(iou * iou) / sigma);
      }
      score[k] *= weight;
      if (score[k] < min_score) {  // drop: the last alive box takes its place
        --alive;
        list.move(alive, k);
        score[k] = score[alive];
        --k;
      }
    }
  }
}

// Groups `order` by label, keeping the order within each group.
std::vector<std::vector<int64_t>> group_by_label(const torch::Tensor& labels_in, const std::vector<int64_t>& order) {
  const auto labels = labels_in.to(torch::kLong).contiguous();
  const int64_t* l = labels.data_ptr<int64_t>();
  std::vector<int64_t> by_label(order);
  std::stable_sort(by_label.begin(), by_label.end(), [l](int64_t a, int64_t b) { return l[a] < l[b]; });
  std::vector<std::vector<int64_t>> groups;
  for (size_t k = 0; k < by_label.size(); ++k) {
    if (k == 0 || l[by_label[k]] != l[by_label[k - 1]]) groups.emplace_back();
    groups.back().push_back(by_label[k]);
  }
  return groups;
}

torch::Tensor to_index_tensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {int64_t(v.size())}, torch::kLong).clone();
}

template <typename T>
SoftNmsResult soft_nms_impl(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor* labels,
                            double iou_threshold, double sigma, double min_score, SoftNmsMethod method) {
  const T* b = boxes.data_ptr<T>();
  const T* s = scores.data_ptr<T>();
  std::vector<int64_t> all(boxes.size(0));
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::vector<int64_t>> groups;
  if (labels)
    groups = group_by_label(*labels, all);
  else
    groups.push_back(all);
  std::vector<std::vector<int64_t>> keeps(groups.size());
  std::vector<std::vector<T>> kept_scores(groups.size());
  at::parallel_for(0, int64_t(groups.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g)
      soft_nms_group<T>(b, s, groups[g], T(iou_threshold), T(sigma), T(min_score), method, keeps[g], kept_scores[g]);
  });
  std::vector<std::pair<T, int64_t>> merged;
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t k = 0; k < keeps[g].size(); ++k) merged.emplace_back(kept_scores[g][k], keeps[g][k]);
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& c) {
    return a.first > c.first || (a.first == c.first && a.second < c.second);
  });
  SoftNmsResult out{torch::empty({int64_t(merged.size())}, torch::kLong),
                    torch::empty({int64_t(merged.size())}, scores.options())};
  int64_t* k = out.keep.data_ptr<int64_t>();
  T* sc = out.scores.data_ptr<T>();
  for (size_t i = 0; i < merged.size(); ++i) sc[i] = merged[i].first, k[i] = merged[i].second;
  return out;
}

}  // namespace

torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.dim() == 2 && a.size(1) == 4, "box_iou: boxes should be [N, 4], got ", a.sizes());
  TORCH_CHECK(b.dim() == 2 && b.size(1) == 4, "box_iou: boxes should be [M, 4], got ", b.sizes());
  const auto area_a = (a.select(1, 2) - a.select(1, 0)) * (a.select(1, 3) - a.select(1, 1));
  const auto area_b = (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
  const auto lt = torch::max(a.unsqueeze(1).narrow(2, 0, 2), b.unsqueeze(0).narrow(2, 0, 2));
  const auto rb = torch::min(a.unsqueeze(1).narrow(2, 2, 2), b.unsqueeze(0).narrow(2, 2, 2));
  const auto wh = (rb - lt).clamp_min(0);
  const auto inter = wh.select(2, 0) * wh.select(2, 1);
  return inter / (area_a.unsqueeze(1) + area_b.unsqueeze(0) - inter);
}

torch::Tensor nms(const torch::Tensor& boxes_in, const torch::Tensor& scores_in, double iou_threshold,
                  int64_t max_keep) {
  check_boxes("nms", boxes_in, scores_in);
  if (!boxes_in.device().is_cpu()) return nms_generic(boxes_in, scores_in, iou_threshold, max_keep);
  if (boxes_in.size(0) == 0 || max_keep == 0) return torch::empty({0}, torch::kLong);
  const auto boxes = boxes_in.contiguous();
  const auto scores = scores_in.contiguous();
  std::vector<int64_t> keep;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "nms", [&] {
    const auto order = score_order(scores.data_ptr<scalar_t>(), scores.size(0));
    greedy_nms<scalar_t>(boxes.data_ptr<scalar_t>(), order, scalar_t(iou_threshold), keep,
                         max_keep < 0 ? SIZE_MAX : size_t(max_keep));
  });
  return to_index_tensor(keep);
}

torch::Tensor batched_nms(const torch::Tensor& boxes_in, const torch::Tensor& scores_in, const torch::Tensor& labels,
                          double iou_threshold) {
  check_boxes("batched_nms", boxes_in, scores_in);
  check_labels("batched_nms", boxes_in, labels);
  if (!boxes_in.device().is_cpu()) return batched_nms_generic(boxes_in, scores_in, labels, iou_threshold);
  if (boxes_in.size(0) == 0) return torch::empty({0}, torch::kLong);
  const auto boxes = boxes_in.contiguous();
  const auto scores = scores_in.contiguous();
  std::vector<int64_t> keep;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "batched_nms", [&] {
    const scalar_t* s = scores.data_ptr<scalar_t>();
    const auto order = score_order(s, scores.size(0));
    const auto groups = group_by_label(labels, order);
    std::vector<std::vector<int64_t>> keeps(groups.size());
    at::parallel_for(0, int64_t(groups.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t g = begin; g < end; ++g)
        greedy_nms<scalar_t>(boxes.data_ptr<scalar_t>(), groups[g], scalar_t(iou_threshold), keeps[g]);
    });
    for (const auto& k : keeps) keep.insert(keep.end(), k.begin(), k.end());
    std::sort(keep.begin(), keep.end(), [s](int64_t a, int64_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  });
  return to_index_tensor(keep);
}

SoftNmsResult soft_nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold, double sigma,
                       double min_score, SoftNmsMethod method) {
  check_boxes("soft_nms", boxes, scores);
  TORCH_CHECK(method != SoftNmsMethod::gaussian || sigma > 0, "soft_nms: sigma should be positive, got ", sigma);
  if (!boxes.device().is_cpu()) return soft_nms_generic(boxes, scores, iou_threshold, sigma, min_score, method);
  SoftNmsResult out;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "soft_nms", [&] {
    out = soft_nms_impl<scalar_t>(boxes.contiguous(), scores.contiguous(), nullptr, iou_threshold, sigma, min_score,
                                  method);
  });
  return out;
}

SoftNmsResult batched_soft_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                               double iou_threshold, double sigma, double min_score, SoftNmsMethod method) {
  check_boxes("batched_soft_nms", boxes, scores);
  check_labels("batched_soft_nms", boxes, labels);
  TORCH_CHECK(method != SoftNmsMethod::gaussian || sigma > 0, "batched_soft_nms: sigma should be positive, got ",
              sigma);
  if (!boxes.device().is_cpu())
    return batched_soft_nms_generic(boxes, scores, labels, iou_threshold, sigma, min_score, method);
  SoftNmsResult out;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "batched_soft_nms", [&] {
    out = soft_nms_impl<scalar_t>(boxes.contiguous(), scores.contiguous(), &labels, iou_threshold, sigma, min_score,
                                  method);
  });
  return out;
}

}  // namespace cvtk::detection

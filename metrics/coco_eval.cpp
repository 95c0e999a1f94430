// COCOeval (bbox) to the last bit: the same IoU operation order, the same stable sorts, the same
// greedy matching walk, the same accumulation. Where pycocotools has a quirk that changes numbers only
// for malformed input (ground-truth annotation id 0 never "matched"), cvtk does the sensible thing and
// the evaluator warns.
#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "metrics/coco_eval.h"
#include "metrics/curves.h"
#include "metrics/input_checks.h"

namespace cvtk::metrics::detail {
namespace {

constexpr double kSpacing = std::numeric_limits<double>::epsilon();  // np.spacing(1)

// maskApi.c bbIou on [x, y, w, h] boxes; the x + w sums are the Box's x2 already.
double coco_iou(const data::Box& d, const data::Box& g, bool crowd) {
  double w = std::min(d.x2, g.x2) - std::max(d.x1, g.x1);
  if (w <= 0) return 0;
  double h = std::min(d.y2, g.y2) - std::max(d.y1, g.y1);
  if (h <= 0) return 0;
  const double i = w * h;
  const double da = (d.x2 - d.x1) * (d.y2 - d.y1);
  const double u = crowd ? da : da + (g.x2 - g.x1) * (g.y2 - g.y1) - i;
  return i / u;
}

// Flat per-class arrays over the evaluated detections, cell by cell (cells in ascending image id,
// detections ranked within their cell): score, rank in the cell, and per area range one bit per IoU
// threshold for "matched" and for "ignored".
struct FlatDetections {
  std::vector<double> score;
  std::vector<uint32_t> rank;
  std::vector<std::vector<uint16_t>> matched, ignored;
  std::vector<size_t> npig;
  size_t cells = 0;

  explicit FlatDetections(size_t A) : matched(A), ignored(A), npig(A, 0) {}
};

// One cell's ground truth and kept detections, and buffers reused from cell to cell.
struct Cell {
  std::vector<const data::Object*> gt;
  std::vector<uint32_t> dt, gt_rank;
  std::vector<double> ious;
  std::vector<char> gt_ignore, gt_matched;
};

// Stable order by descending score; cells hold a few detections, so an insertion sort (no allocation)
// unless they are many.
void sort_by_score(std::vector<uint32_t>& idx, const std::vector<ClassDetection>& dets) {
  auto higher = [&](uint32_t a, uint32_t b) { return dets[a].score > dets[b].score; };
  if (idx.size() > 32) {
    std::stable_sort(idx.begin(), idx.end(), higher);
    return;
  }
  for (size_t i = 1; i < idx.size(); ++i) {
    const uint32_t v = idx[i];
    size_t j = i;
    for (; j > 0 && higher(v, idx[j - 1]); --j) idx[j] = idx[j - 1];
    idx[j] = v;
  }
}

// COCOeval.evaluateImg's greedy matching of one cell in one area range, at every IoU threshold.
void match_area_range(const Protocol& p, size_t a, const std::vector<ClassDetection>& dets, size_t base, Cell& c,
                      FlatDetections& flat) {
  const std::vector<const data::Object*>& cell_gt = c.gt;
  const std::vector<uint32_t>& cell_dt = c.dt;
  std::vector<uint32_t>& gt_rank = c.gt_rank;
  const std::vector<double>& ious = c.ious;
  std::vector<char>& gt_ignore = c.gt_ignore;
  std::vector<char>& gt_matched = c.gt_matched;
  std::vector<uint16_t>& matched = flat.matched[a];
  std::vector<uint16_t>& ignored = flat.ignored[a];
  const size_t T = p.iou_thresholds.size(), D = cell_dt.size(), G = cell_gt.size();
  const AreaRange& range = p.area_ranges[a];
  gt_ignore.assign(G, 0);
  for (size_t k = 0; k < G; ++k) {
    const double area = cell_gt[k]->effective_area();
    gt_ignore[k] = cell_gt[k]->crowd || area < range.lo || area > range.hi;
    flat.npig[a] += !gt_ignore[k];
  }
  // Non-ignored ground truth first, stable.
  gt_rank.clear();
  for (int ignore = 0; ignore < 2; ++ignore)
    for (size_t k = 0; k < G; ++k)
      if (gt_ignore[k] == ignore) gt_rank.push_back(static_cast<uint32_t>(k));
  matched.resize(base + D, 0);
  ignored.resize(base + D, 0);
  for (size_t t = 0; t < T; ++t) {
    const uint16_t bit = static_cast<uint16_t>(1u << t);
    gt_matched.assign(G, 0);
    for (size_t d = 0; d < D; ++d) {
      double best = std::min(p.iou_thresholds[t], 1 - 1e-10);
      int m = -1;
      for (size_t s = 0; s < G; ++s) {
        const uint32_t k = gt_rank[s];
        if (gt_matched[k] && !cell_gt[k]->crowd) continue;
        if (m > -1 && !gt_ignore[m] && gt_ignore[k]) break;
        const double iou = ious[d * G + k];
        if (iou < best) continue;
        best = iou;
        m = static_cast<int>(k);
      }
      if (m == -1) {
        const data::Box& b = dets[cell_dt[d]].box;
        const double area = (b.x2 - b.x1) * (b.y2 - b.y1);
        if (area < range.lo || area > range.hi) ignored[base + d] |= bit;
        continue;
      }
      matched[base + d] |= bit;
      if (gt_ignore[m]) ignored[base + d] |= bit;
      gt_matched[m] = 1;
    }
  }
}

// A cell without ground truth of the class (most cells): nothing matches, and a detection is ignored
// at every threshold of an area range its box area falls outside.
void unmatched_cell(const Protocol& p, const std::vector<ClassDetection>& dets, size_t base, const Cell& c,
                    FlatDetections& flat) {
  const size_t T = p.iou_thresholds.size(), A = p.area_ranges.size(), D = c.dt.size();
  const uint16_t all = static_cast<uint16_t>((1u << T) - 1);
  for (size_t a = 0; a < A; ++a) {
    flat.matched[a].resize(base + D, 0);
    flat.ignored[a].resize(base + D, 0);
  }
  for (size_t d = 0; d < D; ++d) {
    const data::Box& b = dets[c.dt[d]].box;
    const double area = (b.x2 - b.x1) * (b.y2 - b.y1);
    for (size_t a = 0; a < A; ++a)
      if (area < p.area_ranges[a].lo || area > p.area_ranges[a].hi) flat.ignored[a][base + d] = all;
  }
}

// Walks the class's ground truth and detections image by image (a cell), in ascending image id.
void match_cells(const Grouping& g, int label, const Protocol& p, int max_det, FlatDetections& flat) {
  const data::Dataset& gt = *g.gt;
  const auto& gts = g.gt_by_class[label];
  const std::vector<ClassDetection>& dets = g.det_records_by_class[label];  // cell_dt indexes these
  const size_t A = p.area_ranges.size();
  std::vector<double>& score = flat.score;
  std::vector<uint32_t>& rank = flat.rank;
  score.reserve(dets.size());
  rank.reserve(dets.size());
  for (size_t a = 0; a < A; ++a) {
    flat.matched[a].reserve(dets.size());
    flat.ignored[a].reserve(dets.size());
  }
  size_t gi = 0, di = 0;
  Cell c;
  std::vector<const data::Object*>& cell_gt = c.gt;
  std::vector<uint32_t>& cell_dt = c.dt;
  std::vector<double>& ious = c.ious;
  while (gi < gts.size() || di < dets.size()) {
    const uint32_t pos =
        std::min(gi < gts.size() ? gts[gi].first : UINT32_MAX, di < dets.size() ? dets[di].position : UINT32_MAX);
    const data::ImageRecord& image = gt.images[g.image_order[pos]];
    ++flat.cells;
    cell_gt.clear();
    cell_dt.clear();
    for (; gi < gts.size() && gts[gi].first == pos; ++gi) cell_gt.push_back(&image.objects[gts[gi].second]);
    for (; di < dets.size() && dets[di].position == pos; ++di) cell_dt.push_back(static_cast<uint32_t>(di));
    sort_by_score(cell_dt, dets);
    if (cell_dt.size() > static_cast<size_t>(max_det)) cell_dt.resize(max_det);
    const size_t D = cell_dt.size(), G = cell_gt.size(), base = score.size();
    for (size_t d = 0; d < D; ++d) {
      score.push_back(dets[cell_dt[d]].score);
      rank.push_back(static_cast<uint32_t>(d));
    }
    if (G == 0) {
      unmatched_cell(p, dets, base, c, flat);
      continue;
    }
    ious.assign(D * G, 0.0);
    for (size_t d = 0; d < D; ++d)
      for (size_t k = 0; k < G; ++k)
        ious[d * G + k] = coco_iou(dets[cell_dt[d]].box, cell_gt[k]->box, cell_gt[k]->crowd);

    for (size_t a = 0; a < A; ++a) match_area_range(p, a, dets, base, c, flat);
  }
}

// Buffers for one maxDet's ranked detections, reused over maxDets, area ranges and thresholds.
struct Ranked {
  std::vector<uint32_t> kept;
  std::vector<double> rc, pr, sc, tps, fps, q, s;
};

void report_curve_and_operating_point(const Protocol& p, const std::vector<uint16_t>& ignored, uint16_t bit,
                                      const Ranked& rk, size_t npig, ClassReport& r) {
  r.recall_points = p.recall_thresholds;
  r.precision_curve = rk.q;
  r.score_curve = rk.s;
  std::vector<double> ctp, cfp, csc;  // ignored detections do not move the operating point
  for (size_t i = 0; i < rk.kept.size(); ++i) {
    if (ignored[rk.kept[i]] & bit) continue;
    ctp.push_back(rk.tps[i]);
    cfp.push_back(rk.fps[i]);
    csc.push_back(rk.sc[i]);
  }
  fill_operating_point(ctp, cfp, csc, npig, r);
}

// COCOeval.accumulate's whole curve for one (area range, maxDet, threshold) over the kept detections:
// cumulative TP and FP, recall and precision at every rank, sampled at the recall points with scores.
// Run for what the report shows in full (curves, operating point: area all, the largest maxDet).
void accumulate_curve(const Protocol& p, const FlatDetections& flat, size_t a, size_t mi, size_t t, Ranked& rk,
                      CocoClassResult& out) {
  ClassReport& r = out.report;
  const size_t nd = rk.kept.size(), M = p.max_dets.size();
  rk.rc.resize(nd);
  rk.pr.resize(nd);
  rk.sc.resize(nd);
  rk.tps.resize(nd);
  rk.fps.resize(nd);
  for (size_t i = 0; i < nd; ++i) rk.sc[i] = flat.score[rk.kept[i]];
  const std::vector<uint16_t>& matched = flat.matched[a];
  const std::vector<uint16_t>& ignored = flat.ignored[a];
  const uint16_t bit = static_cast<uint16_t>(1u << t);
  double tp = 0, fp = 0;
  for (size_t i = 0; i < nd; ++i) {
    const uint32_t k = rk.kept[i];
    if (!(ignored[k] & bit)) ((matched[k] & bit) ? tp : fp) += 1;
    rk.tps[i] = tp;
    rk.fps[i] = fp;
    rk.rc[i] = tp / static_cast<double>(flat.npig[a]);
    rk.pr[i] = tp / (fp + tp + kSpacing);
  }
  out.recall[a][mi][t] = nd ? rk.rc[nd - 1] : 0;
  sample_curve(rk.rc, rk.pr, rk.sc, p.recall_thresholds, rk.q, rk.s);
  out.precision[a][mi][t] = rk.q;
  if (a == 0 && mi + 1 == M) {
    if (t == 0) {
      report_curve_and_operating_point(p, ignored, bit, rk, flat.npig[a], r);
      r.tp = static_cast<size_t>(tp);
      r.fp = static_cast<size_t>(fp);
    }
    if (t == 5) r.precision_curve_75 = rk.q;
  }
}

// Per (area range, threshold): the precision at each true positive, in rank order, and the counts.
struct TruePositives {
  std::vector<std::vector<double>> precision;  // [a * T + t]
  std::vector<size_t> tp, fp_extra;            // [a * T + t]
  std::vector<size_t> fp_all;                  // [a]: detections false at every threshold
};

// The flat arrays permuted into ranking order, so each maxDet's walk reads them in order.
struct RankedBits {
  std::vector<uint32_t> rank;
  std::vector<std::vector<uint16_t>> matched, ignored;  // [a][i]

  RankedBits(const FlatDetections& flat, const std::vector<uint32_t>& order, size_t A)
      : rank(order.size()), matched(A, std::vector<uint16_t>(order.size())), ignored(matched) {
    for (size_t i = 0; i < order.size(); ++i) rank[i] = flat.rank[order[i]];
    for (size_t a = 0; a < A; ++a)
      for (size_t i = 0; i < order.size(); ++i) {
        matched[a][i] = flat.matched[a][order[i]];
        ignored[a][i] = flat.ignored[a][order[i]];
      }
  }
};

// The walk over the detections ranked below m in their cell, for every area range and threshold at
// once. Precision is computed only at true positives: recall changes only there, so that is where
// the recall points are read.
void count_true_positives(const Protocol& p, const RankedBits& ranked, uint32_t m, TruePositives& tp) {
  const size_t T = p.iou_thresholds.size(), A = p.area_ranges.size();
  const uint16_t all = static_cast<uint16_t>((1u << T) - 1);
  tp.precision.assign(A * T, {});
  tp.tp.assign(A * T, 0);
  tp.fp_extra.assign(A * T, 0);
  tp.fp_all.assign(A, 0);
  for (size_t i = 0; i < ranked.rank.size(); ++i) {
    if (ranked.rank[i] >= m) continue;
    for (size_t a = 0; a < A; ++a) {
      const uint16_t ig = ranked.ignored[a][i], mt = ranked.matched[a][i];
      const uint16_t fps = static_cast<uint16_t>(~mt & ~ig & all), tps = static_cast<uint16_t>(mt & ~ig & all);
      if (fps == all) {
        ++tp.fp_all[a];
        continue;
      }
      for (size_t t = 0; t < T; ++t) {
        const uint16_t bit = static_cast<uint16_t>(1u << t);
        const size_t at = a * T + t;
        if (fps & bit) ++tp.fp_extra[at];
        if (!(tps & bit)) continue;
        const double n = static_cast<double>(++tp.tp[at]);
        const double f = static_cast<double>(tp.fp_all[a] + tp.fp_extra[at]);
        tp.precision[at].push_back(n / (f + n + kSpacing));  // COCOeval: tp / (fp + tp + eps)
      }
    }
  }
}

// COCOeval.accumulate's precision at the recall points and final recall, from the true positives
// alone. Its precision envelope (the running maximum from the right) at rank i is the largest
// precision at a true positive at or after i: between true positives precision only falls. The
// first rank whose recall reaches a point is the rank of the n-th true positive, n the least with
// n / npig >= point (rank 0 for a point <= 0, whose envelope is the same maximum), or none.
void sample_from_true_positives(const Protocol& p, std::vector<double>& precision, size_t npig, size_t nd,
                                std::vector<double>& q, double& recall) {
  const size_t n_tp = precision.size();
  for (size_t i = n_tp; i-- > 1;)
    if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
  const double np = static_cast<double>(npig);
  const std::vector<double>& points = p.recall_thresholds;
  q.assign(points.size(), 0.0);
  size_t n = 1;  // the least n in [1, n_tp] with n / npig >= the point, or n_tp + 1
  for (size_t r = 0; r < q.size(); ++r) {
    if (r > 0 && points[r] < points[r - 1]) n = 1;  // points out of order: search from the start
    while (n <= n_tp && static_cast<double>(n) / np < points[r]) ++n;
    if (n <= n_tp) q[r] = precision[n - 1];
  }
  recall = nd ? static_cast<double>(n_tp) / np : 0;
}

// COCOeval.accumulate for one maxDet, over the detections ranked in `order`.
void accumulate_max_det(const Protocol& p, const FlatDetections& flat, const std::vector<uint32_t>& order,
                        const RankedBits& ranked, size_t mi, Ranked& rk, TruePositives& tp, CocoClassResult& out) {
  const size_t T = p.iou_thresholds.size(), A = p.area_ranges.size(), M = p.max_dets.size();
  const uint32_t m = static_cast<uint32_t>(p.max_dets[mi]);
  rk.kept.clear();
  for (size_t i = 0; i < order.size(); ++i)
    if (ranked.rank[i] < m) rk.kept.push_back(order[i]);
  count_true_positives(p, ranked, m, tp);
  for (size_t a = 0; a < A; ++a) {
    if (flat.cells == 0 || flat.npig[a] == 0) continue;  // undefined: stays -1
    for (size_t t = 0; t < T; ++t) {
      if (a == 0 && mi + 1 == M && (t == 0 || t == 5)) {
        accumulate_curve(p, flat, a, mi, t, rk, out);
        continue;
      }
      sample_from_true_positives(p, tp.precision[a * T + t], flat.npig[a], rk.kept.size(), out.precision[a][mi][t],
                                 out.recall[a][mi][t]);
    }
  }
}

// Per-class numbers, as the golden files define them: the mean of precision over recall points (and
// IoU thresholds for AP) ignoring -1; -1 when nothing is defined.
void fill_class_numbers(const Protocol& p, CocoClassResult& out) {
  const size_t T = p.iou_thresholds.size(), A = p.area_ranges.size(), M = p.max_dets.size();
  ClassReport& r = out.report;
  size_t m100 = M - 1;
  for (size_t mi = 0; mi < M; ++mi)
    if (p.max_dets[mi] == 100) m100 = mi;
  auto ap_of = [&](size_t a, size_t mi, int t_only) {
    std::vector<double> v;
    for (size_t t = 0; t < T; ++t)
      if (t_only < 0 || static_cast<size_t>(t_only) == t)
        v.insert(v.end(), out.precision[a][mi][t].begin(), out.precision[a][mi][t].end());
    return mean_defined(v);
  };
  if (M > 0 && A > 0) {
    r.ap = ap_of(0, m100, -1);
    for (size_t t = 0; t < T; ++t) {
      if (p.iou_thresholds[t] == 0.5) r.ap50 = ap_of(0, m100, static_cast<int>(t));
      if (p.iou_thresholds[t] == 0.75) r.ap75 = ap_of(0, m100, static_cast<int>(t));
    }
    if (A >= 4) {
      r.ap_small = ap_of(1, M - 1, -1);
      r.ap_medium = ap_of(2, M - 1, -1);
      r.ap_large = ap_of(3, M - 1, -1);
    }
    r.ar100 = mean_defined(out.recall[0][M - 1]);
  }
}

}  // namespace

CocoClassResult evaluate_coco_class(const Grouping& g, int label, const Protocol& p) {
  const data::Dataset& gt = *g.gt;
  const size_t T = p.iou_thresholds.size(), A = p.area_ranges.size(), M = p.max_dets.size(),
               R = p.recall_thresholds.size();
  if (T > 16) throw std::invalid_argument("coco protocol: at most 16 IoU thresholds");
  const int max_det = p.max_dets.empty() ? 0 : *std::max_element(p.max_dets.begin(), p.max_dets.end());
  CocoClassResult out;
  ClassReport& r = out.report;
  r.label = label;
  r.name = gt.classes[label];
  out.precision.assign(A, std::vector<std::vector<std::vector<double>>>(
                              M, std::vector<std::vector<double>>(T, std::vector<double>(R, -1))));
  out.recall.assign(A, std::vector<std::vector<double>>(M, std::vector<double>(T, -1)));

  const auto& gts = g.gt_by_class[label];
  for (const auto& [pos, j] : gts) (gt.images[g.image_order[pos]].objects[j].crowd ? r.ignored_gt : r.gt)++;
  r.detections = g.dets_by_class[label].size();

  FlatDetections flat(A);
  match_cells(g, label, p, max_det, flat);

  // One ranking for every area range and maxDet: descending score, ties in (image id, rank) order,
  // which is the flat order. A maxDet m keeps the detections ranked below m in their cell.
  const size_t n = flat.score.size();
  // A stable sort by score, as a plain sort of (score, flat index) pairs: the pairs are distinct.
  std::vector<std::pair<double, uint32_t>> keyed(n);
  for (uint32_t i = 0; i < n; ++i) keyed[i] = {flat.score[i], i};
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = keyed[i].second;
  Ranked ranked;
  TruePositives tp;
  const RankedBits bits(flat, order, A);
  for (size_t mi = 0; mi < M; ++mi) accumulate_max_det(p, flat, order, bits, mi, ranked, tp, out);

  fill_class_numbers(p, out);
  return out;
}

std::vector<SummaryNumber> coco_summary(const std::vector<CocoClassResult>& classes, const Protocol& p) {
  const size_t T = p.iou_thresholds.size();
  auto area_index = [&](const std::string& name) -> int {
    for (size_t a = 0; a < p.area_ranges.size(); ++a)
      if (p.area_ranges[a].name == name) return static_cast<int>(a);
    return -1;
  };
  auto maxdet_index = [&](int m) -> int {
    for (size_t i = 0; i < p.max_dets.size(); ++i)
      if (p.max_dets[i] == m) return static_cast<int>(i);
    return -1;
  };
  // COCOeval._summarize: the mean of the defined entries over thresholds and classes, -1 if none.
  auto summarize = [&](bool ap, double iou, const std::string& area, int max_det) {
    const int a = area_index(area), m = maxdet_index(max_det);
    if (a < 0 || m < 0) return -1.0;
    double s = 0;
    size_t n = 0;
    for (size_t t = 0; t < T; ++t) {
      if (iou >= 0 && p.iou_thresholds[t] != iou) continue;
      for (const auto& c : classes) {
        if (ap) {
          for (double v : c.precision[a][m][t])
            if (v > -1) s += v, ++n;
        } else if (c.recall[a][m][t] > -1) {
          s += c.recall[a][m][t];
          ++n;
        }
      }
    }
    return n ? s / n : -1.0;
  };
  const int md0 = p.max_dets.size() > 0 ? p.max_dets[0] : -1;
  const int md1 = p.max_dets.size() > 1 ? p.max_dets[1] : -1;
  const int md2 = p.max_dets.size() > 2 ? p.max_dets[2] : -1;
  const std::string d2 = std::to_string(md2);
  return {
      {"AP", summarize(true, -1, "all", 100)},  // COCOeval fixes maxDets at 100 here
      {"AP50", summarize(true, 0.5, "all", md2)},
      {"AP75", summarize(true, 0.75, "all", md2)},
      {"AP small", summarize(true, -1, "small", md2)},
      {"AP medium", summarize(true, -1, "medium", md2)},
      {"AP large", summarize(true, -1, "large", md2)},
      {"AR@" + std::to_string(md0), summarize(false, -1, "all", md0)},
      {"AR@" + std::to_string(md1), summarize(false, -1, "all", md1)},
      {"AR@" + d2, summarize(false, -1, "all", md2)},
      {"AR@" + d2 + " small", summarize(false, -1, "small", md2)},
      {"AR@" + d2 + " medium", summarize(false, -1, "medium", md2)},
      {"AR@" + d2 + " large", summarize(false, -1, "large", md2)},
  };
}

}  // namespace cvtk::metrics::detail

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

// COCOeval.evaluateImg's greedy matching of one cell in one area range, at every IoU threshold.
void match_area_range(const Protocol& p, size_t a, const std::vector<data::Detection>& dets, size_t base, Cell& c,
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
  gt_rank.resize(G);
  std::iota(gt_rank.begin(), gt_rank.end(), 0u);
  std::stable_sort(gt_rank.begin(), gt_rank.end(), [&](uint32_t x, uint32_t y) { return gt_ignore[x] < gt_ignore[y]; });
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

// Walks the class's ground truth and detections image by image (a cell), in ascending image id.
void match_cells(const Grouping& g, int label, const Protocol& p, int max_det, FlatDetections& flat) {
  const data::Dataset& gt = *g.gt;
  const auto& dets = *g.dets;
  const auto& gts = g.gt_by_class[label];
  const auto& dl = g.dets_by_class[label];
  const size_t A = p.area_ranges.size();
  std::vector<double>& score = flat.score;
  std::vector<uint32_t>& rank = flat.rank;
  size_t gi = 0, di = 0;
  Cell c;
  std::vector<const data::Object*>& cell_gt = c.gt;
  std::vector<uint32_t>& cell_dt = c.dt;
  std::vector<double>& ious = c.ious;
  while (gi < gts.size() || di < dl.size()) {
    const uint32_t pos = std::min(gi < gts.size() ? gts[gi].first : UINT32_MAX,
                                  di < dl.size() ? static_cast<uint32_t>(g.image_position[dl[di]]) : UINT32_MAX);
    const data::ImageRecord& image = gt.images[g.image_order[pos]];
    ++flat.cells;
    cell_gt.clear();
    cell_dt.clear();
    for (; gi < gts.size() && gts[gi].first == pos; ++gi) cell_gt.push_back(&image.objects[gts[gi].second]);
    for (; di < dl.size() && static_cast<uint32_t>(g.image_position[dl[di]]) == pos; ++di) cell_dt.push_back(dl[di]);
    std::stable_sort(cell_dt.begin(), cell_dt.end(),
                     [&](uint32_t a, uint32_t b) { return dets[a].score > dets[b].score; });
    if (cell_dt.size() > static_cast<size_t>(max_det)) cell_dt.resize(max_det);
    const size_t D = cell_dt.size(), G = cell_gt.size(), base = score.size();
    for (size_t d = 0; d < D; ++d) {
      score.push_back(dets[cell_dt[d]].score);
      rank.push_back(static_cast<uint32_t>(d));
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

// COCOeval.accumulate for one maxDet, over the detections ranked in `order`.
void accumulate_max_det(const Protocol& p, const FlatDetections& flat, const std::vector<uint32_t>& order, size_t mi,
                        Ranked& rk, CocoClassResult& out) {
  const size_t T = p.iou_thresholds.size(), A = p.area_ranges.size(), M = p.max_dets.size();
  ClassReport& r = out.report;
  std::vector<uint32_t>& kept = rk.kept;
  std::vector<double>& rc = rk.rc;
  std::vector<double>& pr = rk.pr;
  std::vector<double>& sc = rk.sc;
  std::vector<double>& tps = rk.tps;
  std::vector<double>& fps = rk.fps;
  std::vector<double>& q = rk.q;
  std::vector<double>& s = rk.s;
  const uint32_t m = static_cast<uint32_t>(p.max_dets[mi]);
  kept.clear();
  for (uint32_t i : order)
    if (flat.rank[i] < m) kept.push_back(i);
  const size_t nd = kept.size();
  rc.resize(nd);
  pr.resize(nd);
  sc.resize(nd);
  tps.resize(nd);
  fps.resize(nd);
  for (size_t i = 0; i < nd; ++i) sc[i] = flat.score[kept[i]];
  for (size_t a = 0; a < A; ++a) {
    if (flat.cells == 0 || flat.npig[a] == 0) continue;  // undefined: stays -1
    const std::vector<uint16_t>& matched = flat.matched[a];
    const std::vector<uint16_t>& ignored = flat.ignored[a];
    for (size_t t = 0; t < T; ++t) {
      const uint16_t bit = static_cast<uint16_t>(1u << t);
      double tp = 0, fp = 0;
      for (size_t i = 0; i < nd; ++i) {
        const uint32_t k = kept[i];
        if (!(ignored[k] & bit)) ((matched[k] & bit) ? tp : fp) += 1;
        tps[i] = tp;
        fps[i] = fp;
        rc[i] = tp / static_cast<double>(flat.npig[a]);
        pr[i] = tp / (fp + tp + kSpacing);
      }
      out.recall[a][mi][t] = nd ? rc[nd - 1] : 0;
      sample_curve(rc, pr, sc, p.recall_thresholds, q, s);
      out.precision[a][mi][t] = q;
      // Report curves and the operating point at area "all", the largest maxDet, IoU 0.5 / 0.75.
      if (a == 0 && mi + 1 == M) {
        if (t == 0) {
          report_curve_and_operating_point(p, ignored, bit, rk, flat.npig[a], r);
          r.tp = static_cast<size_t>(tp);
          r.fp = static_cast<size_t>(fp);
        }
        if (T > 5 && t == 5) r.precision_curve_75 = q;
      }
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
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return flat.score[a] > flat.score[b]; });
  Ranked ranked;
  for (size_t mi = 0; mi < M; ++mi) accumulate_max_det(p, flat, order, mi, ranked, out);

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

#include "metrics/voc_eval.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "metrics/curves.h"

namespace cvtk::metrics::detail {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();  // numpy's float64 eps

double voc_iou(const data::Box& a, const data::Box& b, bool plus_one) {
  const double one = plus_one ? 1.0 : 0.0;
  const double iw = std::max(std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + one, 0.0);
  const double ih = std::max(std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + one, 0.0);
  const double inter = iw * ih;
  const double uni = (a.x2 - a.x1 + one) * (a.y2 - a.y1 + one) + (b.x2 - b.x1 + one) * (b.y2 - b.y1 + one) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace

double voc07_ap(const std::vector<double>& rec, const std::vector<double>& prec) {
  double ap = 0;
  for (int i = 0; i <= 10; ++i) {
    const double t = i * 0.1;  // numpy.arange(0, 1.1, 0.1): 0.30000000000000004 etc., on purpose
    double p = 0;
    for (size_t j = 0; j < rec.size(); ++j)
      if (rec[j] >= t) p = std::max(p, prec[j]);
    ap = ap + p / 11.0;
  }
  return ap;
}

double voc_all_point_ap(const std::vector<double>& rec, const std::vector<double>& prec) {
  std::vector<double> mrec(rec.size() + 2), mpre(prec.size() + 2);
  mrec.front() = 0;
  mrec.back() = 1;
  mpre.front() = 0;
  mpre.back() = 0;
  std::copy(rec.begin(), rec.end(), mrec.begin() + 1);
  std::copy(prec.begin(), prec.end(), mpre.begin() + 1);
  for (size_t i = mpre.size() - 1; i > 0; --i) mpre[i - 1] = std::max(mpre[i - 1], mpre[i]);
  double ap = 0;
  for (size_t i = 0; i + 1 < mrec.size(); ++i)
    if (mrec[i + 1] != mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  return ap;
}

ClassReport evaluate_voc_class(const Grouping& g, int label, const Protocol& protocol) {
  const data::Dataset& gt = *g.gt;
  const auto& dets = *g.dets;
  ClassReport r;
  r.label = label;
  r.name = gt.classes[label];

  // Ground truth of the class per image position: offsets into gt_by_class (already image-ordered).
  const auto& gts = g.gt_by_class[label];
  const size_t n_images = g.image_order.size();
  std::vector<uint32_t> offset(n_images + 1, 0);
  for (const auto& [pos, j] : gts) ++offset[pos + 1];
  for (size_t p = 0; p < n_images; ++p) offset[p + 1] += offset[p];
  std::vector<char> matched(gts.size(), 0);
  size_t npos = 0;
  for (const auto& [pos, j] : gts) {
    const data::Object& o = gt.images[g.image_order[pos]].objects[j];
    if (o.difficult)
      ++r.ignored_gt;
    else
      ++npos;
  }
  r.gt = npos;

  // Detections by descending score; ties keep input order (stable, as the MATLAB devkit).
  std::vector<uint32_t> order = g.dets_by_class[label];
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (dets[a].score != dets[b].score) return dets[a].score > dets[b].score;
    return a < b;
  });
  r.detections = order.size();

  std::vector<double> tp_cum, fp_cum, scores;
  tp_cum.reserve(order.size());
  double tp = 0, fp = 0;
  for (uint32_t di : order) {
    const data::Detection& d = dets[di];
    const int64_t pos = g.image_position[di];
    double ovmax = -std::numeric_limits<double>::infinity();
    int64_t jmax = -1;
    for (uint32_t k = offset[pos]; k < offset[pos + 1]; ++k) {
      const data::Object& o = gt.images[g.image_order[pos]].objects[gts[k].second];
      const double ov = voc_iou(d.box, o.box, protocol.plus_one);
      if (ov > ovmax) {
        ovmax = ov;
        jmax = k;
      }
    }
    if (jmax >= 0 && ovmax > protocol.iou_threshold) {
      const data::Object& o = gt.images[g.image_order[pos]].objects[gts[jmax].second];
      if (o.difficult) continue;  // neither TP nor FP: it leaves the ranking
      if (!matched[jmax]) {
        matched[jmax] = 1;
        tp += 1;
      } else {
        fp += 1;
      }
    } else {
      fp += 1;
    }
    tp_cum.push_back(tp);
    fp_cum.push_back(fp);
    scores.push_back(d.score);
  }
  r.tp = static_cast<size_t>(tp);
  r.fp = static_cast<size_t>(fp);
  if (npos == 0) return r;  // AP undefined (-1): no ground truth to find

  std::vector<double> rec(tp_cum.size()), prec(tp_cum.size());
  for (size_t i = 0; i < tp_cum.size(); ++i) {
    rec[i] = tp_cum[i] / static_cast<double>(npos);
    prec[i] = tp_cum[i] / std::max(tp_cum[i] + fp_cum[i], kEps);
  }
  r.ap = protocol.kind == ProtocolKind::kVoc07 ? voc07_ap(rec, prec) : voc_all_point_ap(rec, prec);
  fill_operating_point(tp_cum, fp_cum, scores, npos, r);
  r.recall_points = recall_points();
  sample_curve(rec, prec, scores, r.recall_points, r.precision_curve, r.score_curve);
  return r;
}

}  // namespace cvtk::metrics::detail

#include "metrics/curves.h"

#include <algorithm>

namespace cvtk::metrics::detail {

const std::vector<double>& recall_points() {
  static const std::vector<double> kPoints = [] {
    std::vector<double> p;
    for (int i = 0; i <= 100; ++i) p.push_back(i == 100 ? 1.0 : i * 0.01);
    return p;
  }();
  return kPoints;
}

void fill_operating_point(const std::vector<double>& tp, const std::vector<double>& fp,
                          const std::vector<double>& scores, size_t npos, ClassReport& out) {
  double best = -1;
  for (size_t i = 0; i < tp.size(); ++i) {
    // Only where the next detection has a lower score: a threshold cannot split equal scores.
    if (i + 1 < tp.size() && scores[i + 1] == scores[i]) continue;
    const double denom = 2 * tp[i] + fp[i] + (static_cast<double>(npos) - tp[i]);
    const double f1 = denom > 0 ? 2 * tp[i] / denom : 0;
    if (f1 > best) {
      best = f1;
      out.best_f1 = f1;
      out.best_f1_score = scores[i];
      out.best_f1_tp = static_cast<size_t>(tp[i]);
      out.best_f1_fp = static_cast<size_t>(fp[i]);
      out.best_f1_precision = tp[i] + fp[i] > 0 ? tp[i] / (tp[i] + fp[i]) : 0;
      out.best_f1_recall = npos ? tp[i] / static_cast<double>(npos) : 0;
    }
  }
}

void sample_curve(const std::vector<double>& recall, std::vector<double> precision, const std::vector<double>& scores,
                  const std::vector<double>& points, std::vector<double>& out_precision,
                  std::vector<double>& out_scores) {
  for (size_t i = precision.size(); i-- > 1;)
    if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
  out_precision.assign(points.size(), 0.0);
  out_scores.assign(points.size(), 0.0);
  for (size_t r = 0; r < points.size(); ++r) {
    const size_t idx = std::lower_bound(recall.begin(), recall.end(), points[r]) - recall.begin();
    if (idx < recall.size()) {
      out_precision[r] = precision[idx];
      out_scores[r] = scores[idx];
    }
  }
}

}  // namespace cvtk::metrics::detail

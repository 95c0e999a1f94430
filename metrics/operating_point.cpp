#include "metrics/operating_point.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace cvtk::metrics {

ThresholdPoint point_at(const ScoreCurve& c, double threshold) {
  ThresholdPoint p;
  p.precision = std::numeric_limits<double>::quiet_NaN();
  // Scores descend: the kept points are a prefix.
  const auto kept = std::partition_point(c.score.begin(), c.score.end(), [&](double s) { return s >= threshold; });
  if (kept != c.score.begin()) {
    const size_t i = static_cast<size_t>(kept - c.score.begin()) - 1;
    p.true_positives = c.true_positives[i];
    p.false_positives = c.false_positives[i];
    const double tp = static_cast<double>(p.true_positives), fp = static_cast<double>(p.false_positives);
    p.precision = tp / (tp + fp);
  }
  const double tp = static_cast<double>(p.true_positives), n = static_cast<double>(c.gt);
  p.recall = c.gt ? tp / n : 0;
  const double denominator = tp + static_cast<double>(p.false_positives) + n;
  p.f1 = denominator > 0 ? 2 * tp / denominator : 0;
  return p;
}

ThresholdSweep sweep_thresholds(const std::vector<ScoreCurve>& curves, size_t steps) {
  if (steps < 1) throw std::invalid_argument("sweep_thresholds: steps must be at least 1");
  double lo = 0, hi = 1;
  for (const auto& c : curves)
    for (double s : c.score) lo = std::min(lo, s), hi = std::max(hi, s);
  ThresholdSweep w;
  for (const auto& c : curves) w.classes += c.gt > 0;
  for (size_t i = 0; i <= steps; ++i) {
    const double t = lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(steps);
    double p = 0, r = 0, f = 0;
    size_t with_precision = 0;
    for (const auto& c : curves) {
      if (c.gt == 0) continue;
      const ThresholdPoint q = point_at(c, t);
      if (q.precision == q.precision) p += q.precision, ++with_precision;
      r += q.recall;
      f += q.f1;
    }
    const double n = w.classes ? static_cast<double>(w.classes) : 1;
    w.threshold.push_back(t);
    w.precision.push_back(with_precision ? p / static_cast<double>(with_precision)
                                         : std::numeric_limits<double>::quiet_NaN());
    w.recall.push_back(r / n);
    w.f1.push_back(f / n);
    if (w.f1.back() > w.f1[w.best]) w.best = i;
  }
  return w;
}

}  // namespace cvtk::metrics

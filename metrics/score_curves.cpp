// Precision, recall and F1 against the score threshold (error_analysis.h), from the error analysis's
// matching.
#include "metrics/error_analysis.h"
#include "metrics/error_matching.h"

namespace cvtk::metrics {

std::vector<ScoreCurve> score_curves(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                     const ErrorOptions& options) {
  const detail::Matching m = detail::match(gt, dets, options, false);
  std::vector<ScoreCurve> curves(gt.classes.size());
  for (size_t k = 0; k < curves.size(); ++k) {
    curves[k].name = gt.classes[k];
    curves[k].label = static_cast<int>(k);
  }
  for (const auto& im : gt.images)
    for (const auto& o : im.objects)
      if (!detail::is_ignored(o)) ++curves[o.label].gt;
  // A class's detections are contiguous by score in the ranking, so a point is final once a lower
  // score of its class follows; an equal score overwrites it.
  for (uint32_t i : detail::ranking(m)) {
    ScoreCurve& c = curves[dets[i].label];
    const bool tp = m.outcomes[i].outcome == Outcome::kTruePositive;
    const size_t t = (c.true_positives.empty() ? 0 : c.true_positives.back()) + tp;
    const size_t f = (c.false_positives.empty() ? 0 : c.false_positives.back()) + !tp;
    if (c.score.empty() || c.score.back() != dets[i].score) {
      c.score.push_back(dets[i].score);
      c.true_positives.push_back(0), c.false_positives.push_back(0);
      c.precision.push_back(0), c.recall.push_back(0), c.f1.push_back(0);
    }
    const double td = static_cast<double>(t), fd = static_cast<double>(f), n = static_cast<double>(c.gt);
    c.true_positives.back() = t;
    c.false_positives.back() = f;
    c.precision.back() = td / (td + fd);
    c.recall.back() = c.gt ? td / n : 0;
    c.f1.back() = 2 * td / (2 * td + fd + (n - td));  // the operating point's expression (curves.cpp)
  }
  return curves;
}

}  // namespace cvtk::metrics

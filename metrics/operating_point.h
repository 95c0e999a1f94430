#pragma once
// One score threshold for all classes: precision, recall and F1 averaged over the classes against the
// threshold, and the threshold where the mean F1 peaks, the report's operating point (its confusion
// matrix and its P / R / F1 plots use it).
#include <cstddef>
#include <vector>

#include "metrics/error_analysis.h"

namespace cvtk::metrics {

// A class's figures when the detections with score >= threshold are kept: tp, fp from its ScoreCurve
// (the last point whose score is >= threshold; none: tp = fp = 0). precision = tp / (tp + fp), NaN when
// nothing is kept; recall = tp / gt (0 without ground truth); f1 = 2 tp / (tp + fp + gt).
struct ThresholdPoint {
  double precision = 0, recall = 0, f1 = 0;
  size_t true_positives = 0, false_positives = 0;
};
ThresholdPoint point_at(const ScoreCurve& curve, double threshold);

struct ThresholdSweep {
  std::vector<double> threshold;  // ascending, evenly spaced from lo to hi (see sweep_thresholds)
  // Means over the classes with ground truth; precision over those of them that keep a detection
  // (NaN where none does).
  std::vector<double> precision, recall, f1;
  size_t best = 0;     // the highest mean F1; the lowest threshold of equal ones
  size_t classes = 0;  // classes with ground truth, the means' denominator

  bool empty() const { return threshold.empty(); }
  double best_threshold() const { return threshold.empty() ? 0 : threshold[best]; }
};

// steps + 1 thresholds from lo = min(0, lowest score) to hi = max(1, highest score). No class with
// ground truth: every mean is 0 (precision NaN) and best = 0. steps >= 1.
ThresholdSweep sweep_thresholds(const std::vector<ScoreCurve>& curves, size_t steps = 100);

}  // namespace cvtk::metrics

#pragma once
// Shared by the protocols: the best-F1 operating point of a ranked list, and precision sampled at
// fixed recall points the way COCOeval samples it.
#include <vector>

#include "metrics/report.h"

namespace cvtk::metrics::detail {

// 0, 0.01, ..., 1 as numpy.linspace(0, 1, 101) gives them.
const std::vector<double>& recall_points();

// tp/fp: cumulative counts after each ranked detection; scores: that detection's score.
void fill_operating_point(const std::vector<double>& tp, const std::vector<double>& fp,
                          const std::vector<double>& scores, size_t npos, ClassReport& out);

// Precision made non-increasing from the right, then read at the first index whose recall reaches
// each point (0 past the end); the score at that index likewise.
void sample_curve(const std::vector<double>& recall, std::vector<double> precision, const std::vector<double>& scores,
                  const std::vector<double>& points, std::vector<double>& out_precision,
                  std::vector<double>& out_scores);

}  // namespace cvtk::metrics::detail

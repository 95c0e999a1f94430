#pragma once
// The PASCAL VOC protocols (voc07 11-point, voc all-point) on grouped data, one class at a time.
#include "metrics/grouping.h"
#include "metrics/report.h"

namespace cvtk::metrics::detail {

// Fills ap, counts, operating point and curve of one class.
ClassReport evaluate_voc_class(const Grouping& g, int label, const Protocol& protocol);

// The two AP integrations, exposed for tests against hand-computed values.
double voc07_ap(const std::vector<double>& recall, const std::vector<double>& precision);
double voc_all_point_ap(const std::vector<double>& recall, const std::vector<double>& precision);

}  // namespace cvtk::metrics::detail

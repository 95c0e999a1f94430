#pragma once
// The COCO protocol (pycocotools COCOeval, bbox) on grouped data, one class at a time, and the
// summary statistics over classes.
#include <vector>

#include "metrics/grouping.h"
#include "metrics/report.h"

namespace cvtk::metrics::detail {

// One class's accumulated arrays: precision[a][m][t][r] and recall[a][m][t], -1 when undefined.
struct CocoClassResult {
  ClassReport report;
  std::vector<std::vector<std::vector<std::vector<double>>>> precision;
  std::vector<std::vector<std::vector<double>>> recall;
};

CocoClassResult evaluate_coco_class(const Grouping& g, int label, const Protocol& protocol);

// COCOeval.summarize's 12 numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl).
std::vector<SummaryNumber> coco_summary(const std::vector<CocoClassResult>& classes, const Protocol& protocol);

}  // namespace cvtk::metrics::detail

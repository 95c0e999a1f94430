#pragma once
// The evaluation report's sections after the first screen (html_report.h), each an HTML fragment.
// Internal to metrics/: html_report.cpp assembles them.
#include <string>
#include <vector>

#include "metrics/error_analysis.h"
#include "metrics/operating_point.h"
#include "metrics/report.h"
#include "vision/data/annotation.h"

namespace cvtk::metrics::detail {

// What the sections draw from: the reports by protocol (null when not computed) and the error analysis
// of the same detections on the same ground truth.
struct ReportData {
  const Report* coco = nullptr;
  const Report* voc = nullptr;
  const Report* voc07 = nullptr;
  const data::Dataset* gt = nullptr;
  const std::vector<data::Detection>* dets = nullptr;
  ErrorBreakdown errors;
  std::vector<ScoreCurve> curves;  // per class, at the error analysis's IoU
  ThresholdSweep sweep;            // the operating point: sweep.best_threshold()
  ConfusionMatrix confusion;       // at that threshold

  // The report whose per-class curves the page draws: COCO (IoU 0.5 and 0.75), else VOC, else VOC07.
  const Report* curve_report() const { return coco ? coco : voc ? voc : voc07; }
};

// v with `digits` decimals; "–" for an undefined (negative) or NaN value.
std::string number(double v, int digits = 3);

std::string curves_section(const ReportData& data);
std::string confusion_section(const ReportData& data);
std::string errors_section(const ReportData& data);  // TIDE breakdown and AP by object size

}  // namespace cvtk::metrics::detail

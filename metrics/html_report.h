#pragma once
// The evaluation report: one self-contained HTML page (no network fetches: a Content-Security-Policy
// allows only inline styles, inline scripts and data: images) that explains a detector's figures.
//
//   first screen  the run context (ground truth, counts, coverage, model, protocols, thresholds, time),
//                 the headline numbers (the 12 COCO numbers, VOC07 and VOC mAP, whichever were computed)
//                 and a per-class table sortable by any column (AP, AP50, AP75, VOC APs, GT, detections,
//                 TP, FP, precision / recall / F1 at the class's best-F1 score);
//   curves        SVG precision-recall curves (mean and per class, IoU 0.5 and 0.75), and precision,
//                 recall and F1 against the score threshold with the operating point marked: the
//                 threshold of the highest mean F1 over classes (operating_point.h);
//   confusion     the class-agnostic confusion matrix (error_analysis.h) at that threshold, counts and
//                 row-normalised, with "missed" and "spurious";
//   errors        TIDE's six error types with their ΔAP and counts, overall and per class; AP and
//                 ground-truth counts by object size (COCO area ranges);
//   gallery       gallery.h: worst false positives, missed objects, images with the most errors.
//
// Every dataset string is HTML-escaped. The page's script marks <body data-js="ready"> once it ran
// and writes any script error into #js-errors (and data-js-errors="yes"), so a headless browser can
// check both; opened as report.html#sort-self-test it sorts the class table by AP50 descending.
#include <string>
#include <vector>

#include "metrics/error_analysis.h"
#include "metrics/gallery.h"
#include "metrics/report.h"
#include "vision/data/annotation.h"

namespace cvtk::metrics {

struct HtmlReportOptions {
  std::string model;    // what made the detections ("thundernet-snet49, runs/bccd/best.pt"); "" : a file
  std::string created;  // when; "" : now, in UTC
  ErrorOptions errors;  // TIDE's thresholds and per-image cap (defaults 0.5, 0.1, 100)
  double confusion_iou = 0.5;
  GalleryOptions gallery;
};

// reports: the protocols evaluated on ground_truth and detections (metrics::evaluate), in any order;
// their protocols' score threshold and class subset (the first report's) apply to the error analysis
// too. Throws std::invalid_argument for an empty reports list, and what analyze_errors throws.
std::string html_report(const std::vector<Report>& reports, const data::Dataset& ground_truth,
                        const std::vector<data::Detection>& detections, const HtmlReportOptions& options = {});

}  // namespace cvtk::metrics

#pragma once
// The dataset page of `cvtk data stats --report FILE`: one self-contained HTML file (the evaluation
// report's policy: no network, inline SVG only) describing each split of a dataset:
//   - images, objects, empty images, objects per image and COCO size groups per split;
//   - objects (and images) per class, per split, as labelled bar charts and one table;
//   - 2-D histograms of box centres (x / image width, y / image height; y runs down as image rows do)
//     and of box sizes (width / image width against height / image height), all classes together;
//   - the distribution of box size (square root of the box area, px);
//   - the empty images by name (the first 50 per split).
// Boxes of images whose size is unknown (width or height 0) are left out of the normalised histograms
// and counted. Every dataset string is HTML-escaped.
#include <string>
#include <vector>

#include "vision/data/annotation.h"
#include "vision/data/stats.h"

namespace cvtk::metrics {

struct DatasetReportOptions {
  std::string source;   // the dataset path, for the header
  std::string created;  // when; "" : now, in UTC
  int bins = 20;        // per axis of the 2-D histograms
};

// splits[i] and stats[i] describe the same split (stats = data::compute_stats(splits[i])).
// std::invalid_argument when the two differ in length or are empty.
std::string dataset_report_html(const std::vector<data::Dataset>& splits, const std::vector<data::SplitStats>& stats,
                                const DatasetReportOptions& options = {});

}  // namespace cvtk::metrics

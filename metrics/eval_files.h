#pragma once
// `cvtk eval` on files: a ground-truth dataset and a detections file, one or more protocols, and the
// report writers. Everything is evaluated before anything is written, so a failure writes nothing.
#include <filesystem>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "vision/data/dataset_io.h"

namespace cvtk::metrics {

struct EvalFilesOptions {
  std::filesystem::path ground_truth;  // dataset (VOC dir, COCO json, YOLO dir)
  std::filesystem::path detections;    // COCO results .json, or a directory of VOC comp4_det files
  data::ReadOptions read;              // format, split, classes file of the ground truth
  std::vector<std::string> protocols = {"voc"};  // voc07, voc, coco; "all" = the three
  double iou_threshold = 0.5;          // VOC protocols
  bool plus_one = false;               // VOC protocols: legacy +1 widths
  double score_threshold = -std::numeric_limits<double>::infinity();
  int max_detections = 0;              // VOC: per image; 0 keeps all
  std::vector<int> coco_max_dets;      // COCO: replaces 1, 10, 100 when given
  std::vector<std::string> classes;    // subset by name
  bool skip_unknown = false;           // count and skip detections of unknown images/classes
  std::filesystem::path json, csv, plots, html;  // outputs, empty = none
  int threads = 0;
};

// Prints the reports to out; returns the process exit code (0). Throws on bad input.
int run_eval_files(const EvalFilesOptions& options, std::ostream& out);

}  // namespace cvtk::metrics

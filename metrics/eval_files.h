#pragma once
// `cvtk eval` on files: a ground-truth dataset and a detections file, one or more protocols, and the
// report writers. Everything is evaluated and rendered before anything is written, and the outputs
// are committed together (metrics/output_files.h), so a failure leaves none of them behind.
#include <filesystem>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "metrics/protocol.h"
#include "metrics/report.h"
#include "vision/data/dataset_io.h"

namespace cvtk::metrics {

struct EvalFilesOptions {
  std::filesystem::path ground_truth;            // dataset (VOC dir, COCO json, YOLO dir)
  std::filesystem::path detections;              // COCO results .json, or a directory of VOC comp4_det files
  data::ReadOptions read;                        // format, split, classes file of the ground truth
  std::vector<std::string> protocols = {"voc"};  // voc07, voc, coco; "all" = the three
  double iou_threshold = 0.5;                    // VOC protocols
  bool plus_one = false;                         // VOC protocols: legacy +1 widths
  double score_threshold = -std::numeric_limits<double>::infinity();
  int max_detections = 0;                        // VOC: per image; 0 keeps all
  std::vector<int> coco_max_dets;                // COCO: replaces 1, 10, 100 when given
  std::vector<std::string> classes;              // subset by name
  bool skip_unknown = false;                     // count and skip detections of unknown images/classes
  std::filesystem::path json, csv, plots, html;  // outputs, empty = none
  int threads = 0;
};

// The protocols the options name ("all" expanded), each with the options' settings applied.
std::vector<Protocol> eval_protocols(const EvalFilesOptions& options);

// What the reports were computed from, for the HTML report's error analysis and gallery (html_report.h).
struct ReportSources {
  const data::Dataset* ground_truth = nullptr;
  const std::vector<data::Detection>* detections = nullptr;
  std::string model;  // what made the detections, when a model did ("thundernet-snet49, best.pt")
};

// Renders every output the options name (json, csv, plots: one PNG per class and protocol in that
// directory, html) plus extra_files (path, bytes; e.g. --save-dets), then commits them all together:
// every file appears or none does, and a file that existed before is put back when the commit fails.
// Prints one line per output to out: "wrote <file>", or "replaced <file>" when it overwrote one (the
// plots as one line for their directory). Throws data::IoError naming the file on failure, and
// std::invalid_argument when options.html is set without sources.
void write_reports(const std::vector<Report>& reports, const EvalFilesOptions& options, std::ostream& out,
                   const std::vector<std::pair<std::filesystem::path, std::string>>& extra_files = {},
                   const ReportSources& sources = {});

// Prints the reports to out, then writes the outputs (write_reports); returns the process exit code
// (0). Throws on bad input, before any output is written.
int run_eval_files(const EvalFilesOptions& options, std::ostream& out);

}  // namespace cvtk::metrics

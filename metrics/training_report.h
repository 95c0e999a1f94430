#pragma once
// The training report: OUT/report.html, one self-contained page (the evaluation report's style sheet
// and Content-Security-Policy: no network fetches) drawn from what a run directory holds:
//
//   results.jsonl   one JSON object per completed epoch (detection/train_log.h names the fields);
//                   plotted against the epoch: the loss and its terms, the learning rate, the
//                   validation figures (-1 = not validated that epoch: a gap, not a zero), throughput
//                   and peak memory; and listed in a sortable table with the best epoch marked;
//   options.toml    the options the run used, shown as written;
//   *.jpg / *.png   images in the directory, then augmented/mosaic.jpg (the first training images as
//                   the loader augments them, written by cvtk train), embedded as data: URIs, at most
//                   4 MB each.
//
// The best epoch is the one best.pt holds: the first with the highest validation mAP@0.5 (VOC), the
// trainer's rule (detection/trainer.cpp), else the highest COCO AP, when the run validated at all.
// A results.jsonl line that is not a JSON object is an error naming the file and line, except an
// unterminated last line (a run killed while writing it), which is skipped and named on the page.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cvtk::metrics {

struct TrainingRun {
  std::filesystem::path dir;
  // Per field (epoch, loss, lr, val_map50, ...): one value per epoch row, NaN where the row lacks it.
  std::map<std::string, std::vector<double>> fields;
  std::vector<std::string> field_order;  // as first seen in the file
  size_t rows = 0;
  std::string options_toml;                   // "" when the run has none
  std::vector<std::filesystem::path> images;  // the directory's, sorted by name, then augmented/mosaic.jpg
  std::string skipped_last_line;              // why the last line was skipped; "" when it was not
};

// Reads DIR/results.jsonl (required: std::runtime_error naming it when missing or malformed),
// DIR/options.toml and the images in DIR.
TrainingRun read_training_run(const std::filesystem::path& dir);

// The row of the best epoch (see above), or -1 when no epoch validated.
int best_epoch_row(const TrainingRun& run);

std::string training_report_html(const TrainingRun& run);

// Writes DIR/report.html from the run's files (through a temporary file, so a reader never sees half
// a page) and returns its path.
std::filesystem::path write_training_report(const std::filesystem::path& dir);

}  // namespace cvtk::metrics

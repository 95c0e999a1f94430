#pragma once
// Report writers: a terminal table, JSON (everything, with the PR curves), CSV (one row per class and
// protocol) and PNG precision-recall plots; the HTML report is html_report.h. Files are written atomically.
// Every form states the coverage: how many ground-truth images have at least one detection, and how
// many detections matched no image or no class (skipped with --skip-unknown).
#include <filesystem>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "metrics/report.h"

namespace cvtk::metrics {

// Header with every protocol setting, the per-class table and the summary lines.
void print_report(const Report& report, std::ostream& out);

// Each writer's text, rendered in memory (metrics/eval_files.h commits several together):
// JSON: everything, with the PR curves. CSV: one row per class and protocol; the counts that concern
// the whole evaluation (images, images with detections, skipped detections) repeat on every row.
std::string json_text(const std::vector<Report>& reports);
std::string csv_text(const std::vector<Report>& reports);
// One PNG per class (<protocol>_<class>.png) plus <protocol>_all.png with every class: (file name, bytes).
std::vector<std::pair<std::string, std::string>> pr_plot_pngs(const Report& report);

// Single-file versions, each written atomically on its own. To write several outputs all or nothing,
// use metrics::write_reports (eval_files.h).
void write_json(const std::vector<Report>& reports, const std::filesystem::path& file);
void write_csv(const std::vector<Report>& reports, const std::filesystem::path& file);
// Returns the files written.
std::vector<std::filesystem::path> write_pr_plots(const Report& report, const std::filesystem::path& dir);

}  // namespace cvtk::metrics

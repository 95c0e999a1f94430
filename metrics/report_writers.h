#pragma once
// Report writers: a terminal table, JSON (everything, with the PR curves), CSV (one row per class and
// protocol), PNG precision-recall plots and a self-contained HTML page. Files are written atomically.
#include <filesystem>
#include <ostream>
#include <vector>

#include "metrics/report.h"

namespace cvtk::metrics {

// Header with every protocol setting, the per-class table and the summary lines.
void print_report(const Report& report, std::ostream& out);

void write_json(const std::vector<Report>& reports, const std::filesystem::path& file);
void write_csv(const std::vector<Report>& reports, const std::filesystem::path& file);

// One PNG per class and protocol (<dir>/<protocol>_<class>.png) plus <dir>/<protocol>_all.png with
// every class; returns the files written.
std::vector<std::filesystem::path> write_pr_plots(const Report& report, const std::filesystem::path& dir);

// A page with the settings, the tables and the PR plots embedded, readable offline.
void write_html(const std::vector<Report>& reports, const std::filesystem::path& file);

}  // namespace cvtk::metrics

#include "metrics/eval_files.h"

#include <cmath>
#include <stdexcept>

#include "metrics/evaluate.h"
#include "metrics/html_report.h"
#include "metrics/output_files.h"
#include "metrics/report_writers.h"
#include "vision/data/detections_io.h"
#include "vision/data/file_util.h"

namespace fs = std::filesystem;

namespace cvtk::metrics {

std::vector<Protocol> eval_protocols(const EvalFilesOptions& o) {
  auto fail = [](const std::string& flag, const std::string& value, const std::string& rule) {
    throw std::invalid_argument(flag + " " + value + ": " + rule);
  };
  if (!(o.iou_threshold >= 0 && o.iou_threshold < 1))
    fail("--iou", data::format_number(o.iou_threshold), "must be within [0, 1) (a match needs IoU above it)");
  if (std::isnan(o.score_threshold)) fail("--score-threshold", "nan", "must be a number");
  if (o.max_detections < 0) fail("--max-dets", std::to_string(o.max_detections), "must be at least 0 (0 keeps all)");
  for (int m : o.coco_max_dets)
    if (m < 1) fail("--coco-max-dets", std::to_string(m), "must be at least 1");
  if (o.threads < 0) fail("--threads", std::to_string(o.threads), "must be at least 0 (0: all cores)");
  std::vector<std::string> names;
  for (const auto& p : o.protocols) {
    if (p == "all")
      names.insert(names.end(), {"voc07", "voc", "coco"});
    else
      names.push_back(p);
  }
  std::vector<Protocol> protocols;
  for (const auto& n : names) {
    Protocol p = protocol_by_name(n);
    p.iou_threshold = o.iou_threshold;
    p.plus_one = o.plus_one;
    p.score_threshold = o.score_threshold;
    p.max_detections = o.max_detections;
    if (!o.coco_max_dets.empty()) p.max_dets = o.coco_max_dets;
    p.classes = o.classes;
    p.threads = o.threads;
    protocols.push_back(p);
  }
  return protocols;
}

void write_reports(const std::vector<Report>& reports, const EvalFilesOptions& o, std::ostream& out,
                   const std::vector<std::pair<fs::path, std::string>>& extra_files, const ReportSources& sources) {
  OutputFiles files;
  for (const auto& [path, bytes] : extra_files) files.add(path, bytes);
  if (!o.json.empty()) files.add(o.json, json_text(reports));
  if (!o.csv.empty()) files.add(o.csv, csv_text(reports));
  size_t first_plot = 0, plots = 0;
  if (!o.plots.empty()) {
    first_plot = extra_files.size() + !o.json.empty() + !o.csv.empty();
    for (const Report& r : reports)
      for (auto& [name, bytes] : pr_plot_pngs(r)) {
        files.add(o.plots / name, std::move(bytes));
        ++plots;
      }
  }
  if (!o.html.empty()) {
    if (!sources.ground_truth || !sources.detections)
      throw std::invalid_argument("write_reports: the HTML report needs the ground truth and the detections");
    HtmlReportOptions html;
    html.model = sources.model;
    files.add(o.html, html_report(reports, *sources.ground_truth, *sources.detections, html));
  }
  if (files.empty()) return;
  const std::vector<OutputFiles::Placed> placed = files.commit();
  size_t replaced_plots = 0;
  for (size_t i = 0; i < placed.size(); ++i) {
    if (plots && i >= first_plot && i < first_plot + plots) {
      replaced_plots += placed[i].replaced;
      if (i + 1 == first_plot + plots)
        out << "wrote " << plots << " precision-recall plots in " << o.plots.string()
            << (replaced_plots ? " (replaced " + std::to_string(replaced_plots) + " existing files)" : std::string())
            << "\n";
      continue;
    }
    out << (placed[i].replaced ? "replaced " : "wrote ") << placed[i].file.string() << "\n";
  }
}

int run_eval_files(const EvalFilesOptions& o, std::ostream& out) {
  const std::vector<Protocol> protocols = eval_protocols(o);
  const data::Dataset gt = data::read_dataset(o.ground_truth, o.read);
  data::DetectionReadOptions dro;
  dro.skip_unknown = o.skip_unknown;
  const data::DetectionSet dets = data::read_detections(o.detections, gt, dro);
  if (!gt.category_ids.empty()) {
    out << "category ids -> labels:";
    for (size_t k = 0; k < gt.classes.size(); ++k)
      out << (k ? ", " : " ") << gt.category_ids[k] << "->" << gt.classes[k];
    out << "\n";
  }
  std::vector<Report> reports;
  for (const Protocol& p : protocols) {
    Report r = evaluate(gt, dets.detections, p);
    r.detections_source = dets.source;
    r.skipped_unknown_image = dets.skipped_unknown_image;
    r.skipped_unknown_class = dets.skipped_unknown_class;
    r.outside_image = dets.outside_image;
    if (dets.detections.empty()) r.warnings.push_back("the detections file holds no detections");
    if (dets.skipped_unknown_image)
      r.warnings.push_back(
          std::to_string(dets.skipped_unknown_image) +
          " detections matched no ground-truth image (or more than one) and were skipped (--skip-unknown)");
    if (dets.skipped_unknown_class)
      r.warnings.push_back(std::to_string(dets.skipped_unknown_class) +
                           " detections of classes the ground truth lacks were skipped (--skip-unknown)");
    reports.push_back(std::move(r));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i) out << "\n";
    print_report(reports[i], out);
  }
  write_reports(reports, o, out, {}, {&gt, &dets.detections, ""});
  return 0;
}

}  // namespace cvtk::metrics

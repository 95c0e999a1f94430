#include "metrics/eval_files.h"

#include "metrics/evaluate.h"
#include "metrics/report_writers.h"
#include "vision/data/detections_io.h"

namespace cvtk::metrics {

int run_eval_files(const EvalFilesOptions& o, std::ostream& out) {
  std::vector<std::string> names;
  for (const auto& p : o.protocols) {
    if (p == "all") names.insert(names.end(), {"voc07", "voc", "coco"});
    else names.push_back(p);
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
  const data::Dataset gt = data::read_dataset(o.ground_truth, o.read);
  data::DetectionReadOptions dro;
  dro.skip_unknown = o.skip_unknown;
  const data::DetectionSet dets = data::read_detections(o.detections, gt, dro);
  if (!gt.category_ids.empty()) {
    out << "category ids -> labels:";
    for (size_t k = 0; k < gt.classes.size(); ++k) out << (k ? ", " : " ") << gt.category_ids[k] << "->" << gt.classes[k];
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
    reports.push_back(std::move(r));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i) out << "\n";
    print_report(reports[i], out);
  }
  if (!o.json.empty()) write_json(reports, o.json);
  if (!o.csv.empty()) write_csv(reports, o.csv);
  if (!o.plots.empty())
    for (const auto& r : reports) write_pr_plots(r, o.plots);
  if (!o.html.empty()) write_html(reports, o.html);
  return 0;
}

}  // namespace cvtk::metrics

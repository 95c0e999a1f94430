#include "detection/run_model.h"

#include <algorithm>
#include <thread>

#include "detection/checkpoint.h"
#include "detection/predictor.h"
#include "metrics/eval_files.h"
#include "metrics/evaluate.h"
#include "metrics/report_writers.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace cvtk::detection {

namespace fs = std::filesystem;

namespace {

std::string fixed(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

}  // namespace

void set_inference_threads(int threads) {
  torch::set_num_threads(threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())));
}

InferenceOptions predict_inference(InferenceOptions inference, double output_threshold) {
  // The model keeps what the output threshold keeps: its own threshold, or a lower one asked for here.
  inference.score_threshold = std::min(inference.score_threshold, output_threshold);
  inference.check();
  if (!(output_threshold >= 0 && output_threshold <= 1))
    throw std::invalid_argument("--score " + data::format_number(output_threshold) + ": must be within [0, 1]");
  return inference;
}

int run_model_eval(const ModelEvalOptions& o, std::ostream& out) {
  const auto protocols = metrics::eval_protocols(o.eval);  // the flags checked before the model runs
  set_inference_threads(o.eval.threads);
  const auto w = read_inference_weights(o.weights);
  const auto& info = w.info;
  InferenceOverrides overrides;
  if (o.size > 0) overrides.size = o.size;
  if (o.score_threshold >= 0) overrides.score_threshold = o.score_threshold;
  overrides.soft_nms = o.soft_nms;
  const InferenceOptions inference = with_overrides(info.inference, overrides);
  inference.check();
  auto gt = data::read_dataset(o.eval.ground_truth, o.eval.read);
  if (gt.classes != info.classes) {
    std::string a, b;
    for (auto& c : gt.classes) a += " " + c;
    for (auto& c : info.classes) b += " " + c;
    throw std::runtime_error(o.eval.ground_truth.string() + ": classes (" + a + " ) differ from the model's (" + b +
                             " )");
  }
  auto model = inference_model(o.weights, w, inference);
  out << "inference: " << inference.describe()
      << (inference.describe() == info.inference.describe() ? " (the checkpoint's)"
                                                            : "; checkpoint's: " + info.inference.describe())
      << "\n";
  PredictOptions po;
  po.inference = inference;
  po.batch = o.batch;
  po.threads = o.eval.threads;
  PredictStats stats;
  auto dets = predict_dataset(model, gt, po, &stats);
  if (stats.images == 0)
    throw std::runtime_error(o.eval.ground_truth.string() + ": no readable image (" + std::to_string(stats.skipped) +
                             " unreadable: " + skipped_list(stats.skipped_files, 5) + ")");
  out << "model " << info.model << " (" << o.weights.string() << ") on " << stats.images << " images";
  if (stats.skipped)
    out << " (" << stats.skipped << " unreadable, skipped: " << skipped_list(stats.skipped_files, 5) << ")";
  out << ": " << dets.size() << " detections, "
      << fixed(1000 * stats.model_seconds / double(std::max<size_t>(stats.images, 1)), 1) << " ms/image\n";
  // The protocols as `cvtk eval --dets` applies them, so the same detections give the same figures.
  std::vector<metrics::Report> reports;
  for (const auto& protocol : protocols) {
    auto r = metrics::evaluate(gt, dets, protocol);
    r.ground_truth = o.eval.ground_truth.string();
    r.detections_source = o.weights.string();
    reports.push_back(std::move(r));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i) out << "\n";
    metrics::print_report(reports[i], out);
  }
  // Reports and --save-dets appear together or not at all.
  std::vector<std::pair<fs::path, std::string>> extra;
  if (!o.save_detections.empty()) extra.emplace_back(o.save_detections, data::coco_results_text(dets, gt));
  metrics::write_reports(reports, o.eval, out, extra, {&gt, &dets, info.model + ", " + o.weights.string()});
  return 0;
}

}  // namespace cvtk::detection

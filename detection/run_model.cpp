#include "detection/run_model.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "augment/sample.h"
#include "detection/checkpoint.h"
#include "detection/predictor.h"
#include "metrics/evaluate.h"
#include "metrics/report_writers.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/file_util.h"
#include "vision/data/image_ids.h"
#include "vision/data/image_size.h"
#include "vision/image/decode.h"
#include "vision/image/draw.h"

namespace cvtk::detection {

namespace fs = std::filesystem;

namespace {

std::string fixed(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

bool is_image(const fs::path& p) {
  static const std::set<std::string> ext = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
  auto e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return ext.count(e) > 0;
}

// A dataset without annotations over loose images, so every source takes the same path.
data::Dataset images_as_dataset(const fs::path& source, const std::vector<std::string>& classes) {
  data::Dataset ds;
  ds.classes = classes;
  ds.source = source.string();
  std::vector<fs::path> files;
  if (fs::is_directory(source)) {
    ds.image_root = source;
    for (auto& e : fs::recursive_directory_iterator(source))
      if (e.is_regular_file() && is_image(e.path())) files.push_back(fs::relative(e.path(), source));
    std::sort(files.begin(), files.end());
  } else {
    ds.image_root = source.parent_path();
    files.push_back(source.filename());
  }
  for (const auto& f : files) {
    data::ImageRecord r;
    r.file = f.string();
    r.name = data::loose_image_name(f);
    if (auto size = data::read_image_size(ds.image_root / f)) {
      r.width = size->width;
      r.height = size->height;
    }
    ds.images.push_back(r);
  }
  data::assign_image_ids(ds);  // ids from names, never positions (vision/data/image_ids.h)
  return ds;
}

// A dataset when its format can be told (data::detect_format's rules); loose images otherwise.
bool looks_like_dataset(const fs::path& p) {
  try {
    data::detect_format(p);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

ThunderNet load_for_inference(const fs::path& weights, ModelInfo& info, bool soft_nms, double nms_iou, int max_dets,
                              double score) {
  auto model = load_model(weights, &info, [&](ThunderNetOptions& o) {
    o.rcnn.soft_nms = soft_nms;
    o.rcnn.nms_iou = nms_iou;
    o.rcnn.max_detections = max_dets;
    o.rcnn.score_threshold = std::min(o.rcnn.score_threshold, score);
  });
  model->optimize_for_inference();
  return model;
}

}  // namespace

int run_predict(const PredictFilesOptions& o, std::ostream& out) {
  if (!fs::exists(o.source)) throw std::runtime_error(o.source.string() + ": no such file or directory");
  torch::set_num_threads(o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency())));
  ModelInfo info;
  auto model = load_for_inference(o.weights, info, o.soft_nms, o.nms_iou, o.max_detections, o.score_threshold);
  data::Dataset ds;
  if (looks_like_dataset(o.source)) {
    data::ReadOptions ro;
    ro.format = data::parse_format(o.format);
    ro.split = o.split;
    ds = data::read_dataset(o.source, ro);
    if (ds.classes != info.classes) {
      // Predictions use the model's classes; the dataset only supplies images.
      ds.classes = info.classes;
      ds.category_ids.clear();
      for (auto& r : ds.images) r.objects.clear();
    }
  } else {
    ds = images_as_dataset(o.source, info.classes);
  }
  if (ds.images.empty()) throw std::runtime_error(o.source.string() + ": no images found");
  PredictOptions po;
  po.size = o.size > 0 ? o.size : info.size;
  po.batch = o.batch;
  po.threads = o.threads;
  po.score_threshold = o.score_threshold;
  PredictStats stats;
  auto dets = predict_dataset(model, ds, po, &stats);
  fs::create_directories(o.out);
  data::write_coco_results(dets, ds, o.out / "predictions.json");
  {
    std::string csv = "image_id,file,width,height\n";
    for (const auto& r : ds.images)
      csv += std::to_string(r.id) + "," + r.file + "," + std::to_string(r.width) + "," + std::to_string(r.height) + "\n";
    data::write_file_atomic(o.out / "images.csv", csv);
  }
  size_t drawn = 0;
  if (o.draw) {
    fs::create_directories(o.out / "images");
    std::map<int64_t, std::vector<const data::Detection*>> by_image;
    for (const auto& d : dets) by_image[d.image_id].push_back(&d);
    for (const auto& r : ds.images) {
      if (o.max_drawn > 0 && drawn >= size_t(o.max_drawn)) break;
      cv::Mat rgb;
      try {
        rgb = image::decode_image(ds.image_root / r.file).image;
      } catch (const std::exception&) {
        continue;  // counted by the loader already
      }
      std::vector<image::DrawBox> boxes;
      for (const auto* d : by_image[r.id]) boxes.push_back({d->box, info.classes[d->label], d->score, d->label});
      image::draw_boxes(rgb, boxes);
      cv::Mat bgr;
      cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
      auto name = fs::path(r.file).stem().string() + ".jpg";
      cv::imwrite((o.out / "images" / name).string(), bgr);
      ++drawn;
    }
  }
  out << "predict: " << stats.images << " images (" << stats.skipped << " unreadable), " << dets.size()
      << " detections with score >= " << o.score_threshold << " in " << fixed(stats.seconds, 2) << " s ("
      << fixed(1000 * stats.model_seconds / double(std::max<size_t>(stats.images, 1)), 1) << " ms/image in the model)\n";
  for (const auto& f : stats.skipped_files) out << "  unreadable: " << f << "\n";
  out << "wrote " << (o.out / "predictions.json").string() << ", " << (o.out / "images.csv").string();
  if (o.draw) out << ", " << drawn << " drawn images in " << (o.out / "images").string();
  out << "\n";
  return 0;
}

int run_model_eval(const ModelEvalOptions& o, std::ostream& out) {
  torch::set_num_threads(o.eval.threads > 0 ? o.eval.threads : int(std::max(1u, std::thread::hardware_concurrency())));
  ModelInfo info;
  auto model = load_for_inference(o.weights, info, o.soft_nms, 0.5, 100, o.score_threshold);
  auto gt = data::read_dataset(o.eval.ground_truth, o.eval.read);
  if (gt.classes != info.classes) {
    std::string a, b;
    for (auto& c : gt.classes) a += " " + c;
    for (auto& c : info.classes) b += " " + c;
    throw std::runtime_error(o.eval.ground_truth.string() + ": classes (" + a + " ) differ from the model's (" + b + " )");
  }
  PredictOptions po;
  po.size = o.size > 0 ? o.size : info.size;
  po.batch = o.batch;
  po.threads = o.eval.threads;
  po.score_threshold = o.score_threshold;
  PredictStats stats;
  auto dets = predict_dataset(model, gt, po, &stats);
  out << "model " << info.model << " (" << o.weights.string() << ") on " << stats.images << " images at " << po.size
      << "x" << po.size << ": " << dets.size() << " detections, "
      << fixed(1000 * stats.model_seconds / double(std::max<size_t>(stats.images, 1)), 1) << " ms/image\n";
  if (!o.save_detections.empty()) {
    data::write_coco_results(dets, gt, o.save_detections);
    out << "wrote " << o.save_detections.string() << "\n";
  }
  std::vector<std::string> names;
  for (const auto& p : o.eval.protocols) {
    if (p == "all") names.insert(names.end(), {"voc07", "voc", "coco"});
    else names.push_back(p);
  }
  std::vector<metrics::Report> reports;
  for (const auto& n : names) {
    auto protocol = metrics::protocol_by_name(n);
    if (n != "coco") protocol.iou_threshold = o.eval.iou_threshold;
    auto r = metrics::evaluate(gt, dets, protocol);
    r.ground_truth = o.eval.ground_truth.string();
    r.detections_source = o.weights.string();
    reports.push_back(std::move(r));
  }
  for (const auto& r : reports) metrics::print_report(r, out);
  if (!o.eval.json.empty()) metrics::write_json(reports, o.eval.json);
  if (!o.eval.csv.empty()) metrics::write_csv(reports, o.eval.csv);
  if (!o.eval.html.empty()) metrics::write_html(reports, o.eval.html);
  if (!o.eval.plots.empty())
    for (const auto& r : reports) metrics::write_pr_plots(r, o.eval.plots);
  return 0;
}

}  // namespace cvtk::detection

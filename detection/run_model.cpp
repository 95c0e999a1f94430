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
#include "metrics/eval_files.h"
#include "metrics/evaluate.h"
#include "metrics/report_writers.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/image_ids.h"
#include "vision/data/image_size.h"
#include "vision/data/output_dir.h"
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

bool is_video(const fs::path& p) {
  static const std::set<std::string> ext = {".mp4", ".avi",  ".mov", ".mkv", ".webm", ".wmv",  ".flv", ".m4v",
                                            ".mpg", ".mpeg", ".3gp", ".ts",  ".mts",  ".m2ts", ".ogv"};
  auto e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return ext.count(e) > 0;
}

// "images/<relative path>.jpg" for each record, never two the same: the path relative to the source
// with its extension made .jpg; when that is taken (x.png beside x.jpg), the whole name plus .jpg; then
// a numeric suffix. Paths reaching outside the source are flattened to their file name first.
std::vector<std::string> drawn_names(const data::Dataset& ds) {
  std::set<std::string> used;
  std::vector<std::string> names;
  for (const auto& r : ds.images) {
    fs::path rel = fs::path(r.file).lexically_normal();
    if (rel.is_absolute() || rel.empty() || *rel.begin() == "..") rel = rel.filename();
    std::vector<std::string> candidates = {fs::path(rel).replace_extension(".jpg").generic_string(),
                                           rel.generic_string() + ".jpg"};
    std::string name;
    for (const auto& c : candidates)
      if (!used.count(c)) {
        name = c;
        break;
      }
    for (int k = 2; name.empty(); ++k) {
      auto c = fs::path(rel).replace_extension("").generic_string() + "-" + std::to_string(k) + ".jpg";
      if (!used.count(c)) name = c;
    }
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string unreadable_list(const PredictStats& stats, size_t max_listed) {
  std::string s;
  for (size_t i = 0; i < stats.skipped_files.size() && i < max_listed; ++i)
    s += (i ? "; " : "") + stats.skipped_files[i];
  if (stats.skipped_files.size() > max_listed)
    s += "; ... and " + std::to_string(stats.skipped_files.size() - max_listed) + " more";
  return s;
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

namespace {

// The images predict runs on: a dataset's (its annotations dropped when its classes are not the
// model's: predictions use the model's classes, the dataset only supplies images), or loose images.
data::Dataset predict_source(const PredictFilesOptions& o, const std::vector<std::string>& classes) {
  data::Dataset ds;
  if (looks_like_dataset(o.source)) {
    data::ReadOptions ro;
    ro.format = data::parse_format(o.format);
    ro.split = o.split;
    ds = data::read_dataset(o.source, ro);
    if (ds.classes != classes) {
      ds.classes = classes;
      ds.category_ids.clear();
      for (auto& r : ds.images) r.objects.clear();
    }
  } else {
    ds = images_as_dataset(o.source, classes);
  }
  if (ds.images.empty()) throw std::runtime_error(o.source.string() + ": no images found");
  return ds;
}

void print_predict_header(const PredictFilesOptions& o, const ModelInfo& info, const InferenceOptions& inference,
                          size_t images, const data::OutputDir& target, std::ostream& out) {
  out << "predict: " << info.model << " (" << o.weights.string() << ") on " << o.source.string() << ", " << images
      << " images\n";
  out << "inference: " << inference.describe();
  if (inference.describe() == info.inference.describe())
    out << " (the checkpoint's)";
  else
    out << (inference.score_threshold < info.inference.score_threshold ? " (score lowered to --score)" : "")
        << "; checkpoint's: " << info.inference.describe();
  out << "\n";
  out << "output: detections with score >= " << data::format_number(o.score_threshold)
      << " (--score: the drawing and output threshold; evaluation keeps >= "
      << data::format_number(info.inference.score_threshold) << ")\n";
  out << "out: " << target.describe() << (target.existing ? "; --exist-ok: its earlier output is replaced" : "")
      << "\n";
  out.flush();
}

// Draws each image's detections into dir/images/<its name>; returns what each image was written as
// ("" when not drawn: unreadable, or past max_drawn).
std::vector<std::string> draw_predictions(const data::Dataset& ds, const std::vector<data::Detection>& dets,
                                          const std::vector<std::string>& classes, int max_drawn, const fs::path& dir) {
  const auto names = drawn_names(ds);
  std::map<int64_t, std::vector<const data::Detection*>> by_image;
  for (const auto& d : dets) by_image[d.image_id].push_back(&d);
  std::vector<std::string> drawn_as(ds.images.size());
  size_t drawn = 0;
  for (size_t i = 0; i < ds.images.size(); ++i) {
    if (max_drawn > 0 && drawn >= size_t(max_drawn)) break;
    const auto& r = ds.images[i];
    cv::Mat rgb;
    try {
      rgb = image::decode_image(ds.image_root / r.file).image;
    } catch (const std::exception&) {
      continue;  // counted by the loader already
    }
    std::vector<image::DrawBox> boxes;
    for (const auto* d : by_image[r.id]) boxes.push_back({d->box, classes[d->label], d->score, d->label});
    image::draw_boxes(rgb, boxes);
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    const fs::path file = dir / "images" / names[i];
    fs::create_directories(file.parent_path());
    if (!cv::imwrite(file.string(), bgr)) throw data::IoError(file.string() + ": cannot write the drawn image");
    drawn_as[i] = "images/" + names[i];
    ++drawn;
  }
  return drawn_as;
}

void write_images_csv(const data::Dataset& ds, const std::vector<std::string>& drawn_as, const fs::path& file) {
  std::string csv = "image_id,file,width,height,drawn\n";
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const auto& r = ds.images[i];
    csv += std::to_string(r.id) + "," + csv_field(r.file) + "," + std::to_string(r.width) + "," +
           std::to_string(r.height) + "," + csv_field(drawn_as[i]) + "\n";
  }
  data::write_file_atomic(file, csv);
}

}  // namespace

int run_predict(const PredictFilesOptions& o, std::ostream& out) {
  std::error_code ec;
  if (!fs::exists(o.source, ec)) throw data::IoError(o.source.string() + ": no such file or directory");
  if (!fs::is_directory(o.source, ec) && is_video(o.source))
    throw std::invalid_argument(o.source.string() +
                                ": video input is not supported (give an image, a directory of images or a dataset)");
  set_inference_threads(o.threads);
  const auto w = read_inference_weights(o.weights);
  const auto& info = w.info;
  InferenceOverrides overrides;
  if (o.size > 0) overrides.size = o.size;
  if (o.nms_iou >= 0) overrides.nms_iou = o.nms_iou;
  if (o.max_detections > 0) overrides.max_detections = o.max_detections;
  overrides.soft_nms = o.soft_nms;
  const InferenceOptions inference = predict_inference(with_overrides(info.inference, overrides), o.score_threshold);
  const data::Dataset ds = predict_source(o, info.classes);
  const auto target = data::choose_output_dir(o.out, o.exist_ok);
  data::StagedOutput staged(target.path, o.exist_ok);
  auto model = inference_model(o.weights, w, inference);
  print_predict_header(o, info, inference, ds.images.size(), target, out);

  PredictOptions po;
  po.inference = inference;
  po.batch = o.batch;
  po.threads = o.threads;
  po.output_threshold = o.score_threshold;
  PredictStats stats;
  auto dets = predict_dataset(model, ds, po, &stats);
  if (stats.images == 0)
    throw std::runtime_error(o.source.string() + ": no readable image (" + std::to_string(stats.skipped) +
                             " unreadable: " + unreadable_list(stats, 5) + "); nothing written");

  const fs::path dir = staged.staging();
  data::write_coco_results(dets, ds, dir / "predictions.json");
  const auto drawn_as =
      o.draw ? draw_predictions(ds, dets, info.classes, o.max_drawn, dir) : std::vector<std::string>(ds.images.size());
  write_images_csv(ds, drawn_as, dir / "images.csv");
  staged.commit();
  const fs::path final_dir = staged.final_path();

  out << "predict: " << stats.images << " images";
  if (stats.skipped) out << " (" << stats.skipped << " unreadable, skipped)";
  out << ", " << dets.size() << " detections with score >= " << data::format_number(o.score_threshold) << " in "
      << fixed(stats.seconds, 2) << " s ("
      << fixed(1000 * stats.model_seconds / double(std::max<size_t>(stats.images, 1)), 1)
      << " ms/image in the model)\n";
  for (const auto& f : stats.skipped_files) out << "  unreadable: " << f << "\n";
  out << "wrote " << (final_dir / "predictions.json").string() << ", " << (final_dir / "images.csv").string();
  if (o.draw) {
    const auto drawn = std::count_if(drawn_as.begin(), drawn_as.end(), [](const auto& s) { return !s.empty(); });
    out << ", " << drawn << " drawn images in " << (final_dir / "images").string();
  }
  out << "\n";
  return 0;
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
                             " unreadable: " + unreadable_list(stats, 5) + ")");
  out << "model " << info.model << " (" << o.weights.string() << ") on " << stats.images << " images";
  if (stats.skipped) out << " (" << stats.skipped << " unreadable, skipped: " << unreadable_list(stats, 5) << ")";
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
  metrics::write_reports(reports, o.eval, out, extra);
  return 0;
}

}  // namespace cvtk::detection

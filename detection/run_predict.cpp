// run_predict (run_model.h): `cvtk predict` on images, directories, globs, datasets, videos and cameras.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "detection/checkpoint.h"
#include "detection/predict_sources.h"
#include "detection/predict_video.h"
#include "detection/prediction_files.h"
#include "detection/predictor.h"
#include "detection/run_model.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/output_dir.h"
#include "vision/image/decode.h"

namespace cvtk::detection {

namespace fs = std::filesystem;

namespace {

// Interrupted by a signal (README "Exit codes").
constexpr int kExitInterrupted = 130;

std::string fixed(double v, int precision) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(precision);
  s << v;
  return s.str();
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

// The images predict runs on: a dataset's (its annotations dropped when its classes are not the
// model's: predictions use the model's classes, the dataset only supplies images), or loose images.
data::Dataset source_dataset(const PredictFilesOptions& o, const PredictSource& source,
                             const std::vector<std::string>& classes) {
  data::Dataset ds;
  if (source.kind == SourceKind::kDataset) {
    data::ReadOptions ro;
    ro.format = data::parse_format(o.format);
    ro.split = o.split;
    ds = data::read_dataset(source.path, ro);
    if (ds.classes != classes) {
      ds.classes = classes;
      ds.category_ids.clear();
      for (auto& r : ds.images) r.objects.clear();
    }
  } else {
    ds = images_dataset(source, classes);
  }
  if (ds.images.empty()) throw std::runtime_error(o.source.string() + ": no images found");
  return ds;
}

void print_predict_header(const PredictFilesOptions& o, const ModelInfo& info, const InferenceOptions& inference,
                          const std::string& what, const data::OutputDir& target, std::ostream& out) {
  out << "predict: " << info.model << " (" << o.weights.string() << ") on " << o.source.string() << ", " << what
      << "\n";
  out << "inference: " << inference.describe();
  if (inference.describe() == info.inference.describe())
    out << " (the checkpoint's)";
  else
    out << (inference.score_threshold < info.inference.score_threshold ? " (score lowered to --score)" : "")
        << "; checkpoint's: " << info.inference.describe();
  out << "\n";
  out << "output: detections with score >= " << data::format_number(o.score_threshold);
  if (!o.classes.empty()) {
    out << " of class";
    for (size_t i = 0; i < o.classes.size(); ++i) out << (i ? ", " : " ") << o.classes[i];
  }
  out << " (--score: the drawing and output threshold; evaluation keeps >= "
      << data::format_number(info.inference.score_threshold) << ")\n";
  out << "out: " << target.describe() << (target.existing ? "; --exist-ok: its earlier output is replaced" : "")
      << "\n";
  out.flush();
}

// What was written per image besides predictions.json.
struct ImageOutputs {
  std::vector<std::string> drawn_as;  // "images/<name>" per record, "" when not drawn
  size_t labels = 0, crops = 0;
};

// Writes each readable image's drawn copy (up to max_drawn), YOLO labels and crops into dir.
ImageOutputs write_image_outputs(const PredictFilesOptions& o, const data::Dataset& ds,
                                 const std::vector<data::Detection>& dets, const std::vector<std::string>& classes,
                                 const fs::path& dir) {
  const auto names = drawn_names(ds);
  std::map<int64_t, std::vector<data::Detection>> by_image;
  for (const auto& d : dets) by_image[d.image_id].push_back(d);
  ImageOutputs w;
  w.drawn_as.resize(ds.images.size());
  size_t drawn = 0;
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const bool draw = o.draw && (o.max_drawn <= 0 || drawn < size_t(o.max_drawn));
    if (!draw && !o.save_txt && !o.save_crops) continue;
    const auto& r = ds.images[i];
    cv::Mat rgb;
    try {
      rgb = image::decode_image(ds.image_root / r.file).image;
    } catch (const std::exception&) {
      continue;  // counted by the loader already
    }
    const auto& image_dets = by_image[r.id];
    const std::string stem = names[i].substr(0, names[i].size() - 4);  // without ".jpg"
    if (o.save_txt) {
      data::write_file_atomic(dir / "labels" / (stem + ".txt"),
                              yolo_label_text(image_dets, rgb.cols, rgb.rows, o.save_conf));
      ++w.labels;
    }
    if (o.save_crops) w.crops += write_crops(rgb, image_dets, classes, dir / "crops", stem);
    if (!draw) continue;
    draw_detections(rgb, image_dets, classes);
    write_rgb_image(rgb, dir / "images" / names[i]);
    w.drawn_as[i] = "images/" + names[i];
    ++drawn;
  }
  return w;
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

// What every source shares once the model is loaded: the checked options, the model and the staging.
struct PredictRun {
  const PredictFilesOptions& o;
  const ModelInfo& info;
  InferenceOptions inference;
  std::vector<int> labels;  // --classes
  ThunderNetExecutor& model;
  data::StagedOutput& staged;
};

void print_extra_outputs(const PredictFilesOptions& o, size_t labels, size_t crops, const fs::path& dir,
                         std::ostream& out) {
  if (o.save_txt) out << ", " << labels << " label files in " << (dir / "labels").string();
  if (o.save_crops) out << ", " << crops << " crops in " << (dir / "crops").string();
}

int predict_images(PredictRun& run, const data::Dataset& ds, std::ostream& out) {
  const auto& o = run.o;
  PredictOptions po;
  po.inference = run.inference;
  po.batch = o.batch;
  po.threads = o.threads;
  po.output_threshold = o.score_threshold;
  PredictStats stats;
  auto dets = predict_dataset(run.model, ds, po, &stats);
  keep_classes(dets, run.labels);
  if (stats.images == 0)
    throw std::runtime_error(o.source.string() + ": no readable image (" + std::to_string(stats.skipped) +
                             " unreadable: " + skipped_list(stats.skipped_files, 5) + "); nothing written");

  const fs::path dir = run.staged.staging();
  if (o.save_txt) fs::create_directories(dir / "labels");
  if (o.save_crops) fs::create_directories(dir / "crops");
  data::write_coco_results(dets, ds, dir / "predictions.json");
  const auto written = write_image_outputs(o, ds, dets, run.info.classes, dir);
  write_images_csv(ds, written.drawn_as, dir / "images.csv");
  run.staged.commit();
  const fs::path final_dir = run.staged.final_path();

  out << "predict: " << stats.images << " images";
  if (stats.skipped) out << " (" << stats.skipped << " unreadable, skipped)";
  out << ", " << dets.size() << " detections with score >= " << data::format_number(o.score_threshold) << " in "
      << fixed(stats.seconds, 2) << " s ("
      << fixed(1000 * stats.model_seconds / double(std::max<size_t>(stats.images, 1)), 1)
      << " ms/image in the model)\n";
  for (const auto& f : stats.skipped_files) out << "  unreadable: " << f << "\n";
  out << "wrote " << (final_dir / "predictions.json").string() << ", " << (final_dir / "images.csv").string();
  if (o.draw) {
    const auto drawn =
        std::count_if(written.drawn_as.begin(), written.drawn_as.end(), [](const auto& s) { return !s.empty(); });
    out << ", " << drawn << " drawn images in " << (final_dir / "images").string();
  }
  print_extra_outputs(o, written.labels, written.crops, final_dir, out);
  out << "\n";
  return 0;
}

std::string describe_video(const OpenedVideo& v) {
  std::ostringstream s;
  s << (v.camera ? "a camera" : "a video") << " (" << v.first.cols << "x" << v.first.rows << ", "
    << data::format_number(v.fps) << " fps" << (v.fps_reported ? "" : " assumed: the source reports none");
  if (v.declared_frames > 0) s << ", " << v.declared_frames << " frames";
  s << ")";
  return s.str();
}

int predict_frames(PredictRun& run, OpenedVideo& video, std::ostream& out) {
  const auto& o = run.o;
  VideoRunOptions vo;
  vo.inference = run.inference;
  vo.batch = o.batch;
  vo.output_threshold = o.score_threshold;
  vo.labels = run.labels;
  vo.draw = o.draw;
  vo.save_txt = o.save_txt;
  vo.save_conf = o.save_conf;
  vo.save_crops = o.save_crops;
  vo.max_frames = o.max_frames;
  if (video.camera && o.max_frames <= 0) out << "reading " << video.name << " until Ctrl-C\n" << std::flush;
  const fs::path dir = run.staged.staging();
  auto r = predict_video(run.model, video, vo, run.info.classes, dir);
  data::Dataset frames;  // only its classes: the category ids predictions.json gives
  frames.classes = run.info.classes;
  data::write_coco_results(r.detections, frames, dir / "predictions.json");
  run.staged.commit();
  const fs::path final_dir = run.staged.final_path();

  out << "predict: " << r.frames << " frames";
  if (r.unreadable) out << " (" << r.unreadable << " unreadable, skipped)";
  out << ", " << r.detections.size() << " detections with score >= " << data::format_number(o.score_threshold) << " in "
      << fixed(r.seconds, 2) << " s (" << fixed(1000 * r.model_seconds / double(std::max<size_t>(r.frames, 1)), 1)
      << " ms/frame in the model)\n";
  for (const auto& f : r.failures) out << "  unreadable: " << f << "\n";
  if (r.interrupted) out << "interrupted (Ctrl-C) after " << r.frames << " frames: their outputs are written\n";
  out << "wrote " << (final_dir / "predictions.json").string() << " (image_id: the frame number from 0)";
  if (!r.video.empty())
    out << ", " << (final_dir / r.video).string() << " (" << r.frames << " frames, " << video.first.cols << "x"
        << video.first.rows << ", " << data::format_number(video.fps) << " fps)";
  print_extra_outputs(o, o.save_txt ? r.frames : 0, r.crops, final_dir, out);
  out << "\n";
  return r.interrupted ? kExitInterrupted : 0;
}

}  // namespace

int run_predict(const PredictFilesOptions& o, std::ostream& out) {
  const PredictSource source = resolve_source(o.source.string());
  const bool frames = source.kind == SourceKind::kVideo || source.kind == SourceKind::kCamera;
  if (o.max_frames > 0 && !frames) throw std::invalid_argument("--max-frames: only for a video or camera --source");
  if (o.save_conf && !o.save_txt)
    throw std::invalid_argument("--save-conf: needs --save-txt (it adds their 6th column)");
  set_inference_threads(o.threads);
  const auto w = read_inference_weights(o.weights);
  const auto& info = w.info;
  InferenceOverrides overrides;
  if (o.size > 0) overrides.size = o.size;
  if (o.nms_iou >= 0) overrides.nms_iou = o.nms_iou;
  if (o.max_detections > 0) overrides.max_detections = o.max_detections;
  overrides.soft_nms = o.soft_nms;
  const InferenceOptions inference = predict_inference(with_overrides(info.inference, overrides), o.score_threshold);
  const auto labels = class_filter(o.classes, info.classes);
  // Whatever the source is, it is read before anything is created: a failure leaves nothing behind.
  OpenedVideo video;
  data::Dataset ds;
  std::string what;
  if (frames) {
    video = open_video(source);
    what = describe_video(video);
  } else {
    ds = source_dataset(o, source, info.classes);
    what = std::to_string(ds.images.size()) + " images";
    if (source.glob) what += " matching the pattern";
    if (source.ignored) what += " (" + std::to_string(source.ignored) + " matching files that are not images ignored)";
  }
  const auto target = data::choose_output_dir(o.out, o.exist_ok);
  data::StagedOutput staged(target.path, o.exist_ok);
  auto model = inference_model(o.weights, w, inference);
  print_predict_header(o, info, inference, what, target, out);
  PredictRun run{o, info, inference, labels, model, staged};
  return frames ? predict_frames(run, video, out) : predict_images(run, ds, out);
}

}  // namespace cvtk::detection

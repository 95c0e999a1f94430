#include "augment/preview.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "augment/pipeline.h"
#include "augment/registry.h"
#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/output_dir.h"
#include "vision/image/decode.h"
#include "vision/image/draw.h"

namespace cvtk::augment {

namespace {

// The pipeline's description, indented under its heading.
void log_pipeline(const Pipeline& pipeline, const PreviewOptions& o, std::ostream& log) {
  log << "pipeline (context " << o.size << "x" << o.size << ", seed " << o.seed << "):\n";
  const std::string d = pipeline.describe();
  size_t start = 0;
  while (start < d.size()) {
    const size_t end = d.find('\n', start);
    log << "  " << d.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

// The sample with its boxes and class names drawn.
cv::Mat drawn_sample(const Sample& s, const std::vector<std::string>& classes) {
  std::vector<image::DrawBox> boxes;
  for (const data::Object& obj : s.objects) {
    const std::string name = obj.label >= 0 && static_cast<size_t>(obj.label) < classes.size()
                                 ? classes[static_cast<size_t>(obj.label)]
                                 : std::to_string(obj.label);
    boxes.push_back({obj.box, name, -1, obj.label});
  }
  cv::Mat drawn = s.image.clone();
  image::draw_boxes(drawn, boxes);
  return drawn;
}

// "007_<name>.png": numbered in dataset order; names may hold '/' (loose images in subdirectories),
// the preview is flat.
std::string preview_name(size_t i, const std::string& name) {
  std::string num = std::to_string(i);
  num = std::string(num.size() < 3 ? 3 - num.size() : 0, '0') + num + "_";
  std::string flat = name;
  std::replace(flat.begin(), flat.end(), '/', '_');
  return num + flat + ".png";
}

void write_rgb(const cv::Mat& rgb, const std::filesystem::path& file, const std::filesystem::path& shown,
               const std::vector<int>& params = {}) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imwrite(file.string(), bgr, params)) throw data::IoError(shown.string() + ": cannot write image");
}

}  // namespace

PreviewReport write_preview(const PreviewOptions& o, std::ostream& log) {
  if (o.n < 1) throw std::invalid_argument("--n must be >= 1, got " + std::to_string(o.n));
  if (o.size < 1) throw std::invalid_argument("--size must be >= 1, got " + std::to_string(o.size));
  const Pipeline pipeline = pipeline_from_text(o.pipeline);
  data::ReadOptions ro;
  ro.split = o.split;
  const data::Dataset ds = data::read_dataset(o.dataset, ro);
  log_pipeline(pipeline, o, log);
  if (ds.images.empty())
    throw data::IoError(o.dataset.string() + ": no images" + (o.split.empty() ? "" : " in split " + o.split) +
                        ", nothing written");
  const data::OutputDir target = data::choose_output_dir(o.out, o.exist_ok);
  data::StagedOutput staged(target.path, o.exist_ok);
  log << "out: " << target.describe() << (target.existing ? "; --exist-ok: its earlier contents are replaced" : "")
      << "\n";
  const std::filesystem::path dir = staged.staging();

  PreviewReport report;
  std::string first_failure;
  std::vector<cv::Mat> tiles;
  const size_t n = std::min(ds.images.size(), static_cast<size_t>(o.n));
  for (size_t i = 0; i < n; ++i) {
    const data::ImageRecord& rec = ds.images[i];
    image::DecodeResult decoded;
    try {
      decoded = image::decode_image(ds.image_root / rec.file);
    } catch (const std::exception& e) {
      log << "skipped: " << e.what() << "\n";
      if (first_failure.empty()) first_failure = e.what();
      ++report.skipped;
      continue;
    }
    Sample s = make_sample(rec, i, std::move(decoded.image));
    Rng rng(o.seed, 0, i);
    pipeline.apply(s, rng, Context{o.size, o.size});
    report.dropped_objects += s.dropped_objects;
    const cv::Mat drawn = drawn_sample(s, ds.classes);
    const std::string name = preview_name(i, rec.name);
    write_rgb(drawn, dir / name, target.path / name);
    report.written.push_back(target.path / name);
    log << report.written.back().string() << ": " << s.image.cols << "x" << s.image.rows << ", " << s.objects.size()
        << " objects";
    if (!decoded.converted.empty()) log << " (converted: " << decoded.converted << ")";
    if (s.dropped_objects) log << ", " << s.dropped_objects << " dropped";
    log << "\n";
    tiles.push_back(drawn);
  }
  if (tiles.empty())
    throw data::IoError(o.dataset.string() + ": none of the first " + std::to_string(n) +
                        " images could be read, nothing written; first: " + first_failure);
  write_rgb(image::mosaic(tiles, o.columns), dir / "mosaic.jpg", target.path / "mosaic.jpg",
            {cv::IMWRITE_JPEG_QUALITY, 90});
  report.written.push_back(target.path / "mosaic.jpg");
  log << report.written.back().string() << ": " << tiles.size() << " images\n";
  staged.commit();
  report.out = target.path;
  if (report.skipped) log << "skipped " << report.skipped << " unreadable images\n";
  return report;
}

void print_registry(std::ostream& out) {
  out << "transforms:\n";
  for (const TransformInfo& t : transform_registry()) {
    out << "  " << t.name << " [" << kind_name(t.kind) << "]  " << t.summary << "\n";
    out << "      e.g. " << parse_pipeline(t.example).transforms()[0]->describe() << "\n";
  }
  out << "presets:\n";
  for (const std::string& name : preset_names()) {
    out << "  " << name << "\n";
    const std::string d = preset(name).describe();
    size_t start = 0;
    while (start < d.size()) {
      const size_t end = d.find('\n', start);
      out << "      " << d.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
}

}  // namespace cvtk::augment

#include "augment/preview.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "augment/pipeline.h"
#include "augment/registry.h"
#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/image/decode.h"
#include "vision/image/draw.h"

namespace cvtk::augment {

PreviewReport write_preview(const PreviewOptions& o, std::ostream& log) {
  if (o.n < 1) throw std::invalid_argument("--n must be >= 1, got " + std::to_string(o.n));
  if (o.size < 1) throw std::invalid_argument("--size must be >= 1, got " + std::to_string(o.size));
  const Pipeline pipeline = pipeline_from_text(o.pipeline);
  data::ReadOptions ro;
  ro.split = o.split;
  const data::Dataset ds = data::read_dataset(o.dataset, ro);
  log << "pipeline (context " << o.size << "x" << o.size << ", seed " << o.seed << "):\n";
  {
    const std::string d = pipeline.describe();
    size_t start = 0;
    while (start < d.size()) {
      const size_t end = d.find('\n', start);
      log << "  " << d.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw data::IoError(o.out.string() + ": cannot create directory: " + ec.message());

  PreviewReport report;
  std::vector<cv::Mat> tiles;
  const size_t n = std::min(ds.images.size(), static_cast<size_t>(o.n));
  for (size_t i = 0; i < n; ++i) {
    const data::ImageRecord& rec = ds.images[i];
    image::DecodeResult decoded;
    try {
      decoded = image::decode_image(ds.image_root / rec.file);
    } catch (const std::exception& e) {
      log << "skipped: " << e.what() << "\n";
      ++report.skipped;
      continue;
    }
    Sample s = make_sample(rec, i, std::move(decoded.image));
    Rng rng(o.seed, 0, i);
    pipeline.apply(s, rng, Context{o.size, o.size});
    report.dropped_objects += s.dropped_objects;
    std::vector<image::DrawBox> boxes;
    for (const data::Object& obj : s.objects) {
      const std::string name = obj.label >= 0 && static_cast<size_t>(obj.label) < ds.classes.size()
                                    ? ds.classes[static_cast<size_t>(obj.label)]
                                    : std::to_string(obj.label);
      boxes.push_back({obj.box, name, -1, obj.label});
    }
    cv::Mat drawn = s.image.clone();
    image::draw_boxes(drawn, boxes);
    char num[16];
    std::snprintf(num, sizeof num, "%03zu_", i);
    const std::filesystem::path file = o.out / (num + rec.name + ".png");
    cv::Mat bgr;
    cv::cvtColor(drawn, bgr, cv::COLOR_RGB2BGR);
    if (!cv::imwrite(file.string(), bgr)) throw data::IoError(file.string() + ": cannot write image");
    report.written.push_back(file);
    log << file.string() << ": " << s.image.cols << "x" << s.image.rows << ", " << s.objects.size() << " objects";
    if (!decoded.converted.empty()) log << " (converted: " << decoded.converted << ")";
    if (s.dropped_objects) log << ", " << s.dropped_objects << " dropped";
    log << "\n";
    tiles.push_back(drawn);
  }
  if (!tiles.empty()) {
    cv::Mat m = image::mosaic(tiles, o.columns), bgr;
    cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
    const std::filesystem::path file = o.out / "mosaic.jpg";
    if (!cv::imwrite(file.string(), bgr, {cv::IMWRITE_JPEG_QUALITY, 90})) throw data::IoError(file.string() + ": cannot write image");
    report.written.push_back(file);
    log << file.string() << ": " << tiles.size() << " images\n";
  }
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

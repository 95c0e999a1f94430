#include "detection/predictor.h"

#include <algorithm>
#include <chrono>

#include "augment/loader.h"
#include "augment/pipeline.h"
#include "augment/random.h"
#include "augment/sample.h"

namespace cvtk::detection {

std::vector<data::Detection> predict_dataset(ThunderNetExecutor& model, const data::Dataset& dataset,
                                             const PredictOptions& options, PredictStats* stats,
                                             const PredictProgress& progress) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto& rcnn = model.options().rcnn;
  const auto& io = options.inference;
  if (rcnn.score_threshold != io.score_threshold || rcnn.nms_iou != io.nms_iou || rcnn.soft_nms != io.soft_nms ||
      rcnn.max_detections != io.max_detections)
    throw std::invalid_argument("predict_dataset: the model was built with other inference options than " +
                                io.describe());
  augment::LoaderOptions lo;
  lo.batch_size = options.batch;
  lo.shuffle = false;
  lo.threads = options.threads;
  lo.nice = 10;
  lo.sizes = {io.size};
  lo.decode_resized = false;  // predictions and metrics from exactly the decoded pixels, as before
  augment::Loader loader(dataset, augment::pipeline_from_text(io.pipeline), lo);
  loader.start_epoch(0);
  std::vector<data::Detection> result;
  double model_seconds = 0;
  size_t done = 0;
  while (auto batch = loader.next()) {
    const auto t0 = clock::now();
    auto dets = model.detect(batch->images);
    model_seconds += std::chrono::duration<double>(clock::now() - t0).count();
    for (size_t i = 0; i < dets.size(); ++i) {
      const auto [w, h] = batch->original_sizes[i];
      auto image =
          original_detections(dets[i], batch->to_original[i], w, h, options.output_threshold, batch->image_ids[i]);
      result.insert(result.end(), image.begin(), image.end());
    }
    done += dets.size();
    if (progress) progress(done, dataset.images.size());
  }
  if (stats) {
    const auto ls = loader.stats();
    stats->images = done;
    stats->skipped = ls.skipped;
    stats->skipped_files = ls.skipped_files;
    stats->seconds = std::chrono::duration<double>(clock::now() - start).count();
    stats->model_seconds = model_seconds;
  }
  return result;
}

std::string skipped_list(const std::vector<std::string>& failures, size_t max_listed) {
  std::string s;
  for (size_t i = 0; i < failures.size() && i < max_listed; ++i) s += (i ? "; " : "") + failures[i];
  if (failures.size() > max_listed) s += "; ... and " + std::to_string(failures.size() - max_listed) + " more";
  return s;
}

PreparedImage prepare_image(cv::Mat rgb, const augment::Pipeline& pipeline, int size) {
  if (rgb.empty() || rgb.type() != CV_8UC3)
    throw std::invalid_argument("prepare_image: expected a non-empty 8-bit 3-channel image");
  augment::Sample s = augment::make_sample(data::ImageRecord{}, 0, std::move(rgb));
  const augment::LoaderOptions defaults;
  augment::Rng rng(defaults.seed, 0, 0);
  pipeline.apply(s, rng, augment::Context{size, size});
  PreparedImage p;
  p.batch = augment::to_tensor(s.image, defaults.mean, defaults.std).unsqueeze(0);
  p.to_original = s.to_original;
  p.width = s.original_width;
  p.height = s.original_height;
  return p;
}

std::vector<data::Detection> original_detections(const ImageDetections& detections, const cv::Matx33d& to_original,
                                                 int width, int height, double output_threshold, int64_t image_id) {
  auto boxes = detections.boxes.contiguous();
  auto scores = detections.scores.contiguous();
  auto labels = detections.labels.contiguous();
  const double w = width, h = height;
  std::vector<data::Detection> result;
  for (int64_t k = 0; k < boxes.size(0); ++k) {
    const double s = scores[k].item<float>();
    if (s < output_threshold) continue;
    data::Detection d;
    d.image_id = image_id;
    d.label = int(labels[k].item<int64_t>());
    d.score = s;
    const float* b = boxes[k].data_ptr<float>();
    d.box = augment::map_box(to_original, data::Box{b[0], b[1], b[2], b[3]});
    d.box = {std::clamp(d.box.x1, 0.0, w), std::clamp(d.box.y1, 0.0, h), std::clamp(d.box.x2, 0.0, w),
             std::clamp(d.box.y2, 0.0, h)};
    if (!d.box.degenerate()) result.push_back(d);
  }
  return result;
}

}  // namespace cvtk::detection

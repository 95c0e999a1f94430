#include "detection/predictor.h"

#include <chrono>

#include "augment/loader.h"
#include "augment/pipeline.h"

namespace cvtk::detection {

namespace {

data::Box map_box(const cv::Matx33d& m, const float* b, int width, int height) {
  double xs[4], ys[4];
  const double px[4] = {b[0], b[2], b[0], b[2]}, py[4] = {b[1], b[1], b[3], b[3]};
  for (int k = 0; k < 4; ++k) {
    const double w = m(2, 0) * px[k] + m(2, 1) * py[k] + m(2, 2);
    xs[k] = (m(0, 0) * px[k] + m(0, 1) * py[k] + m(0, 2)) / w;
    ys[k] = (m(1, 0) * px[k] + m(1, 1) * py[k] + m(1, 2)) / w;
  }
  data::Box box{*std::min_element(xs, xs + 4), *std::min_element(ys, ys + 4), *std::max_element(xs, xs + 4),
                *std::max_element(ys, ys + 4)};
  box.x1 = std::clamp(box.x1, 0.0, double(width));
  box.x2 = std::clamp(box.x2, 0.0, double(width));
  box.y1 = std::clamp(box.y1, 0.0, double(height));
  box.y2 = std::clamp(box.y2, 0.0, double(height));
  return box;
}

}  // namespace

std::vector<data::Detection> predict_dataset(ThunderNet& model, const data::Dataset& dataset,
                                             const PredictOptions& options, PredictStats* stats,
                                             const PredictProgress& progress) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  augment::LoaderOptions lo;
  lo.batch_size = options.batch;
  lo.shuffle = false;
  lo.threads = options.threads;
  lo.nice = 10;
  lo.sizes = {options.size};
  augment::Loader loader(dataset, augment::pipeline_from_text(options.pipeline), lo);
  loader.start_epoch(0);
  const bool was_training = model->is_training();
  model->eval();
  std::vector<data::Detection> result;
  double model_seconds = 0;
  size_t done = 0;
  while (auto batch = loader.next()) {
    const auto t0 = clock::now();
    auto dets = model->detect(batch->images);
    model_seconds += std::chrono::duration<double>(clock::now() - t0).count();
    for (size_t i = 0; i < dets.size(); ++i) {
      auto boxes = dets[i].boxes.contiguous();
      auto scores = dets[i].scores.contiguous();
      auto labels = dets[i].labels.contiguous();
      const auto [w, h] = batch->original_sizes[i];
      for (int64_t k = 0; k < boxes.size(0); ++k) {
        const double s = scores[k].item<float>();
        if (s < options.score_threshold) continue;
        data::Detection d;
        d.image_id = batch->image_ids[i];
        d.label = int(labels[k].item<int64_t>());
        d.score = s;
        d.box = map_box(batch->to_original[i], boxes[k].data_ptr<float>(), w, h);
        if (!d.box.degenerate()) result.push_back(d);
      }
    }
    done += dets.size();
    if (progress) progress(done, dataset.images.size());
  }
  model->train(was_training);
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

}  // namespace cvtk::detection

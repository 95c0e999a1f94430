#include "detection/predictor.h"

#include <algorithm>
#include <chrono>

#include "augment/loader.h"
#include "augment/pipeline.h"
#include "augment/sample.h"

namespace cvtk::detection {

std::vector<data::Detection> predict_dataset(ThunderNet& model, const data::Dataset& dataset,
                                             const PredictOptions& options, PredictStats* stats,
                                             const PredictProgress& progress) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto& rcnn = model->options().rcnn;
  const auto& io = options.inference;
  if (rcnn.score_threshold != io.score_threshold || rcnn.nms_iou != io.nms_iou || rcnn.soft_nms != io.soft_nms ||
      rcnn.max_detections != io.max_detections)
    throw std::invalid_argument("predict_dataset: the model was built with other inference options than " + io.describe());
  augment::LoaderOptions lo;
  lo.batch_size = options.batch;
  lo.shuffle = false;
  lo.threads = options.threads;
  lo.nice = 10;
  lo.sizes = {io.size};
  lo.decode_resized = false;  // predictions and metrics from exactly the decoded pixels, as before
  augment::Loader loader(dataset, augment::pipeline_from_text(io.pipeline), lo);
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
        if (s < options.output_threshold) continue;
        data::Detection d;
        d.image_id = batch->image_ids[i];
        d.label = int(labels[k].item<int64_t>());
        d.score = s;
        const float* b = boxes[k].data_ptr<float>();
        d.box = augment::map_box(batch->to_original[i], data::Box{b[0], b[1], b[2], b[3]});
        d.box = {std::clamp(d.box.x1, 0.0, double(w)), std::clamp(d.box.y1, 0.0, double(h)),
                 std::clamp(d.box.x2, 0.0, double(w)), std::clamp(d.box.y2, 0.0, double(h))};
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

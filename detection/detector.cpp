#include "detection/detector.h"

#include <mutex>
#include <optional>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "augment/pipeline.h"
#include "detection/checkpoint.h"
#include "detection/predictor.h"
#include "detection/run_model.h"
#include "vision/image/decode.h"

namespace cvtk {

namespace {

// An RGB image the pipeline may write into: never the caller's pixels.
cv::Mat owned_rgb(const cv::Mat& image, ChannelOrder order) {
  if (image.empty()) throw std::invalid_argument("cvtk::Detector::detect: the image is empty");
  if (image.depth() != CV_8U)
    throw std::invalid_argument("cvtk::Detector::detect: expected an 8-bit image, got OpenCV depth " +
                                std::to_string(image.depth()));
  const bool bgr = order == ChannelOrder::bgr;
  cv::Mat rgb;
  switch (image.channels()) {
    case 1:
      cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      if (bgr)
        cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
      else
        rgb = image.clone();
      break;
    case 4:
      cv::cvtColor(image, rgb, bgr ? cv::COLOR_BGRA2RGB : cv::COLOR_RGBA2RGB);
      break;
    default:
      throw std::invalid_argument("cvtk::Detector::detect: expected 1, 3 or 4 channels, got " +
                                  std::to_string(image.channels()));
  }
  return rgb;
}

}  // namespace

struct Detector::Impl {
  detection::ModelInfo info;
  detection::InferenceOptions inference;
  DetectorOptions options;  // resolved
  augment::Pipeline pipeline;
  std::optional<detection::ThunderNetExecutor> model;
  std::mutex mutex;  // the model's forward is not known to be reentrant

  std::vector<Detection> run(cv::Mat rgb) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto prepared = detection::prepare_image(std::move(rgb), pipeline, inference.size);
    const auto out = model->detect(prepared.batch);
    const auto dets = detection::original_detections(out.at(0), prepared.to_original, prepared.width, prepared.height,
                                                     *options.score_threshold, 0);
    std::vector<Detection> result;
    result.reserve(dets.size());
    for (const auto& d : dets)
      result.push_back({d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.label, info.classes.at(size_t(d.label)), d.score});
    return result;
  }
};

Detector::Detector(const std::filesystem::path& checkpoint, const DetectorOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (options.threads < 0)
    throw std::invalid_argument("--threads " + std::to_string(options.threads) + ": must be at least 0");
  auto weights = detection::read_inference_weights(checkpoint);
  const auto& stored = weights.info.inference;
  detection::InferenceOverrides overrides;
  overrides.size = options.input_size;
  overrides.nms_iou = options.nms_iou;
  overrides.max_detections = options.max_detections;
  overrides.soft_nms = options.soft_nms;
  const double output_threshold = options.score_threshold.value_or(stored.score_threshold);
  const auto inference = detection::predict_inference(detection::with_overrides(stored, overrides), output_threshold);

  Impl& m = *impl_;
  m.options = options;
  m.options.score_threshold = output_threshold;
  m.options.nms_iou = inference.nms_iou;
  m.options.max_detections = inference.max_detections;
  m.options.input_size = inference.size;
  m.options.soft_nms = inference.soft_nms;
  m.pipeline = augment::pipeline_from_text(inference.pipeline);
  detection::set_inference_threads(options.threads);
  m.model.emplace(detection::inference_model(checkpoint, weights, inference));
  m.inference = inference;
  m.info = std::move(weights.info);
}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

std::vector<Detection> Detector::detect(const cv::Mat& image, ChannelOrder order) const {
  return impl_->run(owned_rgb(image, order));
}

std::vector<Detection> Detector::detect_file(const std::filesystem::path& image) const {
  return impl_->run(image::decode_image(image).image);
}

const std::vector<std::string>& Detector::classes() const { return impl_->info.classes; }

const std::string& Detector::model_name() const { return impl_->info.model; }

const DetectorOptions& Detector::options() const { return impl_->options; }

std::string Detector::describe() const { return impl_->inference.describe(); }

}  // namespace cvtk

// cvtk::Detector, the applications' API: the detections predict_dataset gives for the same checkpoint
// and image files whatever way the image is handed over (BGR, RGB, grayscale, 4-channel, a file, a
// tensor), its options as predict's flags, calls from several threads, and errors that name their cause.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <thread>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detection/checkpoint.h"
#include "detection/detector.h"
#include "detection/detector_tensor.h"
#include "detection/predictor.h"
#include "detection/run_model.h"
#include "tests/common.h"
#include "vision/data/synth.h"

using namespace cvtk;
using namespace cvtk::detection;
namespace fs = std::filesystem;

namespace {

// An untrained model: its scores sit near 1 / (classes + 1), above the default threshold, so every
// image gives a full list of detections to compare.
struct Fixture {
  fs::path dir, checkpoint;
  std::vector<fs::path> images;  // lossless, so every reader sees the same pixels
};

const Fixture& fixture() {
  static const Fixture s = [] {
    Fixture x;
    x.dir = cvtk::testing::process_scratch_dir("detector");
    ModelInfo info;
    info.classes = data::synth_class_names();
    info.inference.size = 96;
    torch::manual_seed(0);
    ThunderNet model(thundernet_options(info));
    x.checkpoint = x.dir / "m.pt";
    save_checkpoint(x.checkpoint, info, model, nullptr, nullptr, {}, "");
    cv::RNG rng(3);
    const cv::Size sizes[] = {{200, 120}, {90, 150}, {64, 64}};
    for (size_t i = 0; i < std::size(sizes); ++i) {
      cv::Mat bgr(sizes[i], CV_8UC3);
      rng.fill(bgr, cv::RNG::UNIFORM, 0, 256);
      cv::GaussianBlur(bgr, bgr, {7, 7}, 2);  // some structure for the features
      x.images.push_back(x.dir / ("image" + std::to_string(i) + ".png"));
      cv::imwrite(x.images.back().string(), bgr);
    }
    return x;
  }();
  return s;
}

// predict_dataset on the images, as run_predict runs it, per image.
std::vector<std::vector<data::Detection>> predicted(const DetectorOptions& o, int batch) {
  const Fixture& s = fixture();
  auto w = read_inference_weights(s.checkpoint);
  InferenceOptions inference = w.info.inference;
  if (o.input_size) inference.size = *o.input_size;
  if (o.nms_iou) inference.nms_iou = *o.nms_iou;
  if (o.max_detections) inference.max_detections = *o.max_detections;
  const double output = o.score_threshold.value_or(w.info.inference.score_threshold);
  inference = predict_inference(inference, output);
  auto model = inference_model(s.checkpoint, w, inference);
  data::Dataset ds;
  ds.classes = w.info.classes;
  ds.image_root = s.dir;
  for (size_t i = 0; i < s.images.size(); ++i) {
    data::ImageRecord r;
    r.id = int64_t(i) + 1;
    r.file = s.images[i].filename().string();
    ds.images.push_back(r);
  }
  PredictOptions po;
  po.inference = inference;
  po.batch = batch;
  po.output_threshold = output;
  std::vector<std::vector<data::Detection>> per_image(s.images.size());
  for (const auto& d : predict_dataset(model, ds, po)) per_image[size_t(d.image_id - 1)].push_back(d);
  return per_image;
}

void expect_same(const std::vector<Detection>& mine, const std::vector<data::Detection>& reference,
                 const std::string& what) {
  ASSERT_EQ(mine.size(), reference.size()) << what;
  ASSERT_FALSE(mine.empty()) << what;
  for (size_t k = 0; k < mine.size(); ++k) {
    const auto& a = mine[k];
    const auto& b = reference[k];
    EXPECT_EQ(a.x1, b.box.x1) << what << " #" << k;
    EXPECT_EQ(a.y1, b.box.y1) << what << " #" << k;
    EXPECT_EQ(a.x2, b.box.x2) << what << " #" << k;
    EXPECT_EQ(a.y2, b.box.y2) << what << " #" << k;
    EXPECT_EQ(a.score, b.score) << what << " #" << k;
    EXPECT_EQ(a.class_index, b.label) << what << " #" << k;
    EXPECT_EQ(a.class_name, data::synth_class_names().at(size_t(b.label))) << what << " #" << k;
  }
}

void expect_same(const std::vector<Detection>& a, const std::vector<Detection>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(a[k].x1 == b[k].x1 && a[k].y1 == b[k].y1 && a[k].x2 == b[k].x2 && a[k].y2 == b[k].y2 &&
                a[k].score == b[k].score && a[k].class_index == b[k].class_index)
        << what << " #" << k;
  }
}

}  // namespace

TEST(Detector, GivesPredictsDetectionsHoweverTheImageIsGiven) {
  const Fixture& s = fixture();
  const Detector detector(s.checkpoint, {});
  const auto reference = predicted({}, 1);
  for (size_t i = 0; i < s.images.size(); ++i) {
    const std::string name = s.images[i].filename().string();
    const cv::Mat bgr = cv::imread(s.images[i].string(), cv::IMREAD_COLOR);
    const cv::Mat before = bgr.clone();
    const auto from_bgr = detector.detect(bgr);
    expect_same(from_bgr, reference[i], name + " (BGR)");
    EXPECT_EQ(cv::norm(bgr, before, cv::NORM_INF), 0) << "the caller's image changed";
    for (const auto& d : from_bgr) {
      EXPECT_TRUE(0 <= d.x1 && d.x1 < d.x2 && d.x2 <= bgr.cols) << name;
      EXPECT_TRUE(0 <= d.y1 && d.y1 < d.y2 && d.y2 <= bgr.rows) << name;
    }
    expect_same(detector.detect_file(s.images[i]), reference[i], name + " (file)");
    cv::Mat rgb, bgra;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    expect_same(detector.detect(rgb, ChannelOrder::rgb), reference[i], name + " (RGB)");
    cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
    expect_same(detector.detect(bgra), reference[i], name + " (BGRA)");
    const auto tensor = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).permute({2, 0, 1});
    expect_same(detect(detector, tensor), reference[i], name + " (tensor)");
    // Grayscale is taken as its three-channel expansion, as the file decoder takes it.
    cv::Mat gray, gray_bgr;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::cvtColor(gray, gray_bgr, cv::COLOR_GRAY2BGR);
    expect_same(detector.detect(gray), detector.detect(gray_bgr), name + " (grayscale)");
  }
}

TEST(Detector, BatchesInPredictGiveTheSameDetections) {
  const Fixture& s = fixture();
  const Detector detector(s.checkpoint, {});
  const auto reference = predicted({}, 8);
  for (size_t i = 0; i < s.images.size(); ++i)
    expect_same(detector.detect_file(s.images[i]), reference[i], s.images[i].filename().string() + " in a batch of 3");
}

TEST(Detector, OptionsMeanWhatPredictsFlagsMean) {
  const Fixture& s = fixture();
  const Detector defaults(s.checkpoint);
  const auto& d = defaults.options();
  EXPECT_EQ(*d.score_threshold, 0.05);
  EXPECT_EQ(*d.nms_iou, 0.5);
  EXPECT_EQ(*d.max_detections, 100);
  EXPECT_EQ(*d.input_size, 96);
  EXPECT_FALSE(d.soft_nms);
  EXPECT_EQ(defaults.describe(), "size 96, score >= 0.05, NMS 0.5, max 100 per image, pipeline eval");
  EXPECT_EQ(defaults.classes(), data::synth_class_names());
  EXPECT_EQ(defaults.model_name(), "thundernet-snet49");

  DetectorOptions o;
  o.score_threshold = 0.17;
  o.nms_iou = 0.4;
  o.max_detections = 7;
  o.input_size = 128;
  const Detector changed(s.checkpoint, o);
  EXPECT_EQ(changed.describe(), "size 128, score >= 0.05, NMS 0.4, max 7 per image, pipeline eval");
  const auto reference = predicted(o, 1);
  for (size_t i = 0; i < s.images.size(); ++i) {
    const auto mine = changed.detect_file(s.images[i]);
    EXPECT_EQ(mine.size(), reference[i].size());
    if (!reference[i].empty()) expect_same(mine, reference[i], s.images[i].filename().string());
    EXPECT_LE(mine.size(), 7u);
    for (const auto& det : mine) EXPECT_GE(det.score, 0.17);
  }
}

TEST(Detector, CallsFromSeveralThreadsGiveTheSerialResults) {
  const Fixture& s = fixture();
  const Detector detector(s.checkpoint);
  std::vector<std::vector<Detection>> serial;
  for (const auto& f : s.images) serial.push_back(detector.detect_file(f));
  std::vector<std::vector<Detection>> parallel(2 * s.images.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < parallel.size(); ++t)
    threads.emplace_back([&, t] { parallel[t] = detector.detect_file(s.images[t % s.images.size()]); });
  for (auto& t : threads) t.join();
  for (size_t t = 0; t < parallel.size(); ++t)
    expect_same(parallel[t], serial[t % s.images.size()], "thread " + std::to_string(t));
}

TEST(Detector, ErrorsNameTheirCause) {
  const Fixture& s = fixture();
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(nothing thrown)";
  };
  EXPECT_THROW(Detector(s.dir / "missing.pt"), std::runtime_error);
  EXPECT_NE(message([&] { Detector(s.dir / "missing.pt"); }).find("missing.pt"), std::string::npos);
  std::ofstream(s.dir / "junk.pt") << "not a checkpoint";
  EXPECT_THROW(Detector(s.dir / "junk.pt"), std::runtime_error);
  EXPECT_NE(message([&] { Detector(s.dir / "junk.pt"); }).find("junk.pt"), std::string::npos);

  DetectorOptions bad;
  bad.nms_iou = 2;
  EXPECT_THROW(Detector(s.checkpoint, bad), std::invalid_argument);
  EXPECT_NE(message([&] { Detector(s.checkpoint, bad); }).find("--nms-iou 2"), std::string::npos);
  bad = {};
  bad.score_threshold = 1.5;
  EXPECT_THROW(Detector(s.checkpoint, bad), std::invalid_argument);
  bad = {};
  bad.input_size = 0;
  EXPECT_THROW(Detector(s.checkpoint, bad), std::invalid_argument);
  bad = {};
  bad.max_detections = 0;
  EXPECT_THROW(Detector(s.checkpoint, bad), std::invalid_argument);

  const Detector detector(s.checkpoint);
  EXPECT_THROW(detector.detect(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(detector.detect(cv::Mat(8, 8, CV_32FC3, cv::Scalar::all(0))), std::invalid_argument);
  EXPECT_THROW(detector.detect(cv::Mat(8, 8, CV_8UC2, cv::Scalar::all(0))), std::invalid_argument);
  EXPECT_THROW(detector.detect_file(s.dir / "no-image.png"), std::runtime_error);
  EXPECT_NE(message([&] { detector.detect_file(s.dir / "no-image.png"); }).find("no-image.png"), std::string::npos);
  EXPECT_THROW(detect(detector, torch::zeros({3, 8, 8}, torch::kFloat)), std::invalid_argument);
  EXPECT_THROW(detect(detector, torch::zeros({8, 8, 3}, torch::kUInt8)), std::invalid_argument);
}

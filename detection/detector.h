#pragma once
// cvtk::Detector: a detector trained by `cvtk train`, for applications. The public API of the installed
// library (find_package(cvtk), target cvtk::detection); this header needs OpenCV's core and no LibTorch.
//
// What it runs: the checkpoint's model (its EMA weights when it has them) with the inference
// configuration its training validated with (input size, score threshold, NMS, detections per image and
// input pipeline, detection/inference_options.h), changed only by the DetectorOptions given. It gives
// the detections `cvtk predict` gives for the same checkpoint, image and options, in the same order
// (tests/install/install_test.cpp compares the two). The image goes through the checkpoint's pipeline
// (by default a stretch to size x size, which does not keep the aspect ratio) and the model; every box
// comes back in the pixels of the image given, clipped to it; a box that clipping leaves empty is dropped.
//
// Boxes: x1, y1, x2, y2 in pixels of the image given to detect(), continuous coordinates with the
// image's top-left corner at (0, 0) and x2 = x1 + width (a box covering exactly pixel column 0 has
// x1 = 0, x2 = 1), so 0 <= x1 < x2 <= image width and 0 <= y1 < y2 <= image height.
// Per image at most max_detections boxes, each scored at least score_threshold, highest score first.
//
// Images: detect() takes the pixels as cv::imread returns them (8-bit BGR), or RGB, grayscale and
// 4-channel ones (alpha ignored) as said by its arguments. `cvtk predict` reads files with its own
// decoder, which gives cv::imread's pixels for 8-bit JPEG and PNG files but ignores a JPEG's EXIF
// orientation, which cv::imread applies: read with cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION, or
// use detect_file(), to get predict's detections for such files.
//
// Threads: LibTorch's intra-op thread count is one setting for the whole process; a Detector sets it
// when it is made (DetectorOptions::threads). detect() and detect_file() may be called from several
// threads: calls on one Detector run one at a time, separate Detectors run in parallel.
//
// Errors: the constructor throws std::runtime_error naming the checkpoint when the file is missing,
// unreadable, not a cvtk checkpoint, damaged, or holds weights that do not fit its model, and
// std::invalid_argument when an option is out of range, naming it as the `cvtk predict` flag of the same
// meaning (--score, --nms-iou, --max-dets, --size). detect() throws std::invalid_argument for an empty
// image or one that is not 8-bit with 1, 3 or 4 channels; detect_file() throws std::runtime_error naming
// the file when it is missing or does not decode.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace cvtk {

// Unset values keep the checkpoint's; each set value means what the `cvtk predict` flag named after it
// means, and must lie in the same range.
struct DetectorOptions {
  std::optional<double> score_threshold;  // --score: keep detections scored at least this, [0, 1]
  std::optional<double> nms_iou;          // --nms-iou: per-class NMS IoU threshold, (0, 1]
  std::optional<int> max_detections;      // --max-dets: detections per image at most, >= 1
  std::optional<int> input_size;          // --size: the square network input's side in pixels, [16, 8192]
  bool soft_nms = false;                  // --soft-nms: linear Soft-NMS whatever the checkpoint says
  int threads = 0;                        // --threads: LibTorch's intra-op threads; 0: every core
};

enum class ChannelOrder { bgr, rgb };

struct Detection {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // pixels of the image given, see above
  int class_index = 0;                    // index into Detector::classes()
  std::string class_name;
  double score = 0;  // the class's softmax probability (Soft-NMS: after its decay)
};

class Detector {
 public:
  explicit Detector(const std::filesystem::path& checkpoint, const DetectorOptions& options = {});
  ~Detector();
  // A moved-from Detector may only be destroyed or assigned to.
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;

  // image: CV_8UC3 in `order`, CV_8UC1 grayscale, or CV_8UC4 with the colours in `order` and alpha last.
  // Any size; the image is not changed.
  std::vector<Detection> detect(const cv::Mat& image, ChannelOrder order = ChannelOrder::bgr) const;
  // An image file read as `cvtk predict` reads it (grayscale, 16-bit and 4-channel images converted).
  std::vector<Detection> detect_file(const std::filesystem::path& image) const;

  const std::vector<std::string>& classes() const;
  const std::string& model_name() const;  // e.g. "thundernet-snet49"
  // The options in effect, every optional set: the checkpoint's values where none was given.
  const DetectorOptions& options() const;
  // The inference configuration as `cvtk predict` prints it on its "inference:" line, e.g. "size 320,
  // score >= 0.05, NMS 0.5, max 100 per image, pipeline eval"; the model's score threshold is the lower
  // of the checkpoint's and options().score_threshold, which filters its output.
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvtk

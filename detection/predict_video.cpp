#include "detection/predict_video.h"

#include <chrono>
#include <cstdlib>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>

#include "augment/pipeline.h"
#include "detection/inference/thundernet_executor.h"
#include "detection/interrupt_guard.h"
#include "detection/predict_sources.h"
#include "detection/prediction_files.h"
#include "detection/predictor.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace cvtk::detection {

namespace fs = std::filesystem;

namespace {

// Consecutive failed reads after which a stream counts as ended.
constexpr int kMaxConsecutiveFailures = 5;

void quiet_video_libraries() {
  // FFmpeg writes decoder complaints straight to stderr; OpenCV reads this once, when its FFmpeg
  // backend starts. A value the user set is kept.
  setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
}

std::string frame_name(const std::string& stem, long frame) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%06ld", frame);
  return stem + buf;
}

std::string frame_range(long first, long last) {
  return first == last ? "frame " + std::to_string(first)
                       : "frames " + std::to_string(first) + "-" + std::to_string(last);
}

// The drawn video's writer: mp4v in .mp4, else Motion JPEG in .avi.
cv::VideoWriter open_writer(const fs::path& dir, const OpenedVideo& video, fs::path* name) {
  const cv::Size size = video.first.size();
  cv::VideoWriter w;
  for (const auto& [codec, ext] : {std::pair{"mp4v", ".mp4"}, std::pair{"MJPG", ".avi"}}) {
    *name = video.stem + ext;
    if (w.open((dir / *name).string(), cv::VideoWriter::fourcc(codec[0], codec[1], codec[2], codec[3]), video.fps,
               size))
      return w;
  }
  throw data::IoError((dir / (video.stem + ".mp4")).string() + ": OpenCV here can write neither mp4v nor MJPG video");
}

// Reads frames, tracking failures: the next frame into `bgr` and its index, or false at the end.
class FrameStream {
 public:
  FrameStream(OpenedVideo& v, VideoRunResult& r) : v_(v), r_(r) {}
  bool next(cv::Mat& bgr, long& index) {
    if (!first_done_) {
      first_done_ = true;
      bgr = v_.first;
      index = next_++;
      return true;
    }
    const long start = next_;
    const bool known = v_.declared_frames > 0;
    for (int failures = 0;; ++failures) {
      if (v_.capture->read(bgr) && !bgr.empty()) {
        note_failures(start, next_ - 1, false);
        index = next_++;
        return true;
      }
      // Without a declared length a failed read is the end of a file; with one, the end is there.
      if ((!known && !v_.camera) || (known && next_ >= v_.declared_frames)) {
        note_failures(start, next_ - 1, false);
        return false;
      }
      if (failures + 1 == kMaxConsecutiveFailures) {
        note_failures(start, known ? v_.declared_frames - 1 : next_, true);
        return false;
      }
      ++next_;
    }
  }

 private:
  // ended: the stream stopped giving frames, rather than skipping some and going on.
  void note_failures(long first, long last, bool ended) {
    if (last < first) return;
    r_.unreadable += size_t(last - first + 1);
    const std::string why = ended           ? "could not be read (the stream ends early or is damaged)"
                            : first == last ? "does not decode"
                                            : "do not decode";
    r_.failures.push_back(v_.name + ": " + frame_range(first, last) + ": " + why);
  }
  OpenedVideo& v_;
  VideoRunResult& r_;
  long next_ = 0;
  bool first_done_ = false;
};

// Everything a frame gives besides predictions.json: the drawn frame, its labels and crops.
void write_frame_outputs(cv::Mat& bgr, long index, const std::vector<data::Detection>& dets, const VideoRunOptions& o,
                         const std::vector<std::string>& classes, const OpenedVideo& video, const fs::path& dir,
                         cv::VideoWriter& writer, VideoRunResult& r) {
  const std::string name = frame_name(video.stem, index);
  if (o.save_txt)
    data::write_file_atomic(dir / "labels" / (name + ".txt"), yolo_label_text(dets, bgr.cols, bgr.rows, o.save_conf));
  if (!o.save_crops && !o.draw) return;
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  if (o.save_crops) r.crops += write_crops(rgb, dets, classes, dir / "crops", name);
  if (!o.draw) return;
  draw_detections(rgb, dets, classes);
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  // A stream may change size midway; the video keeps the first frame's.
  if (bgr.size() != video.first.size()) cv::resize(bgr, bgr, video.first.size(), 0, 0, cv::INTER_AREA);
  writer.write(bgr);
}

// Runs one batch of frames (BGR, as read) through the model and writes their outputs.
void run_batch(ThunderNetExecutor& model, const augment::Pipeline& pipeline, std::vector<cv::Mat>& frames,
               const std::vector<long>& indices, const VideoRunOptions& o, const std::vector<std::string>& classes,
               const OpenedVideo& video, const fs::path& dir, cv::VideoWriter& writer, VideoRunResult& r) {
  using clock = std::chrono::steady_clock;
  std::vector<torch::Tensor> inputs;
  std::vector<PreparedImage> prepared;
  for (const cv::Mat& bgr : frames) {
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);  // a new Mat the pipeline may write into
    prepared.push_back(prepare_image(rgb, pipeline, o.inference.size));
    inputs.push_back(prepared.back().batch);
  }
  const auto t0 = clock::now();
  const auto out = model.detect(torch::cat(inputs));
  r.model_seconds += std::chrono::duration<double>(clock::now() - t0).count();
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto& p = prepared[i];
    auto dets = original_detections(out[i], p.to_original, p.width, p.height, o.output_threshold, indices[i]);
    keep_classes(dets, o.labels);
    write_frame_outputs(frames[i], indices[i], dets, o, classes, video, dir, writer, r);
    r.detections.insert(r.detections.end(), dets.begin(), dets.end());
    ++r.frames;
  }
}

}  // namespace

OpenedVideo open_video(const PredictSource& source) {
  quiet_video_libraries();
  OpenedVideo v;
  v.camera = source.kind == SourceKind::kCamera;
  if (v.camera) {
    v.name = "camera " + std::to_string(source.camera);
    v.stem = "camera" + std::to_string(source.camera);
    v.capture = std::make_shared<cv::VideoCapture>(source.camera);
  } else {
    v.name = source.path.string();
    v.stem = source.path.stem().string();
    // FFmpeg alone where OpenCV has it: its built-in AVI reader, tried next, prints to stderr on
    // damaged files.
    const bool ffmpeg = cv::videoio_registry::hasBackend(cv::CAP_FFMPEG);
    v.capture = std::make_shared<cv::VideoCapture>(v.name, ffmpeg ? cv::CAP_FFMPEG : cv::CAP_ANY);
  }
  if (!v.capture->isOpened())
    throw data::IoError(v.camera ? "--source " + std::to_string(source.camera) + ": cannot open camera " +
                                       std::to_string(source.camera) + " (no such device, or it is busy)"
                                 : v.name + ": cannot open the video (not a video, damaged, or a codec OpenCV lacks)");
  const double fps = v.capture->get(cv::CAP_PROP_FPS);
  v.fps_reported = std::isfinite(fps) && fps > 0 && fps < 1000;
  if (v.fps_reported) v.fps = fps;
  const double count = v.capture->get(cv::CAP_PROP_FRAME_COUNT);
  if (!v.camera && std::isfinite(count) && count > 0) v.declared_frames = long(count);
  if (!v.capture->read(v.first) || v.first.empty())
    throw data::IoError(v.name + ": no readable frame" + (v.camera ? "" : " (empty or damaged video)"));
  return v;
}

VideoRunResult predict_video(ThunderNetExecutor& model, OpenedVideo& video, const VideoRunOptions& o,
                             const std::vector<std::string>& classes, const fs::path& dir) {
  const auto start = std::chrono::steady_clock::now();
  VideoRunResult r;
  InterruptGuard guard;  // Ctrl-C ends the run after the current batch, with its outputs written
  cv::VideoWriter writer;
  if (o.draw) writer = open_writer(dir, video, &r.video);
  if (o.save_txt) fs::create_directories(dir / "labels");
  if (o.save_crops) fs::create_directories(dir / "crops");
  const auto pipeline = augment::pipeline_from_text(o.inference.pipeline);
  FrameStream stream(video, r);
  std::vector<cv::Mat> frames;
  std::vector<long> indices;
  cv::Mat bgr;
  long index = 0;
  for (bool more = true; more;) {
    const bool limit = o.max_frames > 0 && long(r.frames + frames.size()) >= o.max_frames;
    r.interrupted = InterruptGuard::requested();
    more = !limit && !r.interrupted && stream.next(bgr, index);
    if (more) {
      frames.push_back(bgr.clone());  // read() reuses its buffer
      indices.push_back(index);
    }
    if (!frames.empty() && (!more || frames.size() >= size_t(o.batch))) {
      run_batch(model, pipeline, frames, indices, o, classes, video, dir, writer, r);
      frames.clear();
      indices.clear();
    }
  }
  writer.release();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace cvtk::detection

#pragma once
// `cvtk predict` on a video file or a camera: frames read with OpenCV's cv::VideoCapture, run through
// the model in batches exactly as images are (predictor.h prepare_image), and written back drawn.
//
// Frames are numbered from 0 in the order read, as OpenCV's CAP_PROP_POS_FRAMES counts them; frame i's
// detections carry image_id i and its outputs are named "<stem>_<i, 6 digits>". The drawn video is
// <dir>/<stem>.mp4 (MPEG-4 Part 2, fourcc mp4v) or, where this OpenCV cannot write that, <stem>.avi
// (Motion JPEG), at the source's frame rate (30 when the source reports none) and the first frame's
// size. A frame that does not decode is counted and named, and reading goes on while the stream gives
// frames; when a file ends before the frame count its header declares, the missing frames are
// counted as unreadable. Reading stops at the end, after max_frames frames, or at Ctrl-C (SIGINT).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "detection/inference_options.h"
#include "vision/data/annotation.h"

namespace cv {
class VideoCapture;
}

namespace cvtk::detection {

class ThunderNetExecutor;
struct PredictSource;

// An opened video or camera whose first frame has been read.
struct OpenedVideo {
  std::shared_ptr<cv::VideoCapture> capture;
  std::string name;  // for messages: the file as given, or "camera 0"
  std::string stem;  // output names: the file's stem, or "camera0"
  bool camera = false;
  double fps = 30;            // frames per second the drawn video is written at
  bool fps_reported = false;  // the source reported fps (else 30 is assumed)
  long declared_frames = 0;   // frame count the file declares; 0 when unknown (cameras, streams)
  cv::Mat first;              // the first frame, BGR
};

// Opens a kVideo or kCamera source and reads its first frame. IoError naming the file or camera when it
// cannot be opened or gives no frame. OpenCV's and FFmpeg's own messages are silenced.
OpenedVideo open_video(const PredictSource& source);

struct VideoRunOptions {
  InferenceOptions inference;  // the model's configuration (size and pipeline used here)
  int batch = 8;
  double output_threshold = 0;                                   // keep detections scored at least this
  std::vector<int> labels;                                       // keep only these classes; empty: all
  bool draw = true;                                              // write the drawn video
  bool save_txt = false, save_conf = false, save_crops = false;  // prediction_files.h, per frame
  long max_frames = 0;  // stop after this many frames; 0: at the end (a camera: at Ctrl-C)
};

struct VideoRunResult {
  size_t frames = 0;                        // frames run through the model
  size_t unreadable = 0;                    // frames that did not decode (or the file declared and lacked)
  std::vector<std::string> failures;        // "clip.mp4: frame 12: does not decode", ranges for runs of them
  bool interrupted = false;                 // stopped by SIGINT
  std::vector<data::Detection> detections;  // image_id = frame index
  std::filesystem::path video;              // the drawn video written, relative to the output directory ("" if none)
  size_t crops = 0;
  double seconds = 0, model_seconds = 0;
};

// Runs the frames of `video` through `model` and writes into `dir` (an existing directory): the drawn
// video, and with save_txt labels/<stem>_<frame>.txt, with save_crops crops/<class>/<stem>_<frame>_<n>.jpg.
// IoError naming the file when an output cannot be written.
VideoRunResult predict_video(ThunderNetExecutor& model, OpenedVideo& video, const VideoRunOptions& options,
                             const std::vector<std::string>& classes, const std::filesystem::path& dir);

}  // namespace cvtk::detection

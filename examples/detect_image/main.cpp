// detect_image CHECKPOINT IMAGE [--score S] [--nms-iou T] [--max-dets N] [--size PX] [--threads N]
//              [--draw OUT.jpg]
//
// Runs a checkpoint written by `cvtk train` on one image and prints what it finds: a header line
// "detect_image: <model> on <image> (<width>x<height>), <n> detections; inference: <configuration>",
// then one line per detection, highest score first,
//   x1 y1 x2 y2 score class_index class_name
// with the box corners in the image's pixels (x2 = x1 + width) and every number printed exactly (the
// shortest text that reads back as the same double). --draw writes the image with the boxes drawn.
// Exit code 0 on success, 1 on an error (one line on stderr), 2 on bad arguments.
#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detection/detector.h"

namespace {

std::string exact(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

int usage(const std::string& problem) {
  std::cerr << "detect_image: " << problem << "\n"
            << "usage: detect_image CHECKPOINT IMAGE [--score S] [--nms-iou T] [--max-dets N] [--size PX] "
               "[--threads N] [--draw OUT.jpg]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string checkpoint, image_file, draw_file;
  cvtk::DetectorOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) return usage(arg + " needs a value");
      const std::string value = argv[++i];
      try {
        if (arg == "--score")
          options.score_threshold = std::stod(value);
        else if (arg == "--nms-iou")
          options.nms_iou = std::stod(value);
        else if (arg == "--max-dets")
          options.max_detections = std::stoi(value);
        else if (arg == "--size")
          options.input_size = std::stoi(value);
        else if (arg == "--threads")
          options.threads = std::stoi(value);
        else if (arg == "--draw")
          draw_file = value;
        else
          return usage("unknown option " + arg);
      } catch (const std::logic_error&) {
        return usage(arg + " " + value + ": not a number");
      }
    } else if (checkpoint.empty()) {
      checkpoint = arg;
    } else if (image_file.empty()) {
      image_file = arg;
    } else {
      return usage("unexpected argument " + arg);
    }
  }
  if (image_file.empty()) return usage("give a checkpoint and an image");

  try {
    const cvtk::Detector detector(checkpoint, options);
    // cvtk reads images as stored; cv::imread would otherwise turn a JPEG by its EXIF orientation.
    const cv::Mat image = cv::imread(image_file, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    if (image.empty()) throw std::runtime_error(image_file + ": cannot read the image");
    const auto detections = detector.detect(image);  // BGR, as cv::imread gives it

    std::cout << "detect_image: " << detector.model_name() << " on " << image_file << " (" << image.cols << "x"
              << image.rows << "), " << detections.size() << " detections; inference: " << detector.describe() << "\n";
    for (const auto& d : detections)
      std::cout << exact(d.x1) << " " << exact(d.y1) << " " << exact(d.x2) << " " << exact(d.y2) << " "
                << exact(d.score) << " " << d.class_index << " " << d.class_name << "\n";

    if (!draw_file.empty()) {
      cv::Mat drawn = image.clone();
      for (const auto& d : detections) {
        const cv::Point p1(int(d.x1), int(d.y1)), p2(int(d.x2), int(d.y2));
        cv::rectangle(drawn, p1, p2, cv::Scalar(0, 200, 0), 2);
        cv::putText(drawn, d.class_name + " " + std::to_string(int(d.score * 100 + 0.5)) + "%", p1 + cv::Point(2, 12),
                    cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 200, 0), 1);
      }
      if (!cv::imwrite(draw_file, drawn)) throw std::runtime_error(draw_file + ": cannot write the drawn image");
    }
  } catch (const std::exception& e) {
    std::cerr << "detect_image: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

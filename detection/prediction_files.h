#pragma once
// What `cvtk predict` writes for one image or video frame besides predictions.json (no LibTorch):
// the drawn image, YOLO-format label lines and crops of the detected objects.
//
// Detections are in the image's pixels (continuous coordinates, x2 = x1 + width, DESIGN.md §3), as
// predict_dataset returns them; labels index the model's classes.
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "vision/data/annotation.h"

namespace cvtk::detection {

// The labels of the class names asked for with --classes, sorted, each once. std::invalid_argument
// naming the unknown name and listing the model's classes. Empty `names`: empty (every class).
std::vector<int> class_filter(const std::vector<std::string>& names, const std::vector<std::string>& classes);

// Keeps the detections whose label is in `labels` (every one when `labels` is empty).
void keep_classes(std::vector<data::Detection>& detections, const std::vector<int>& labels);

// YOLO label lines for one image of width x height pixels, one per detection in the given order:
// "class cx cy w h", the class index and the box centre and size divided by the image's width and
// height (so in [0, 1]), 6 decimals; with `confidence`, the score as a sixth column. "" for none.
std::string yolo_label_text(const std::vector<data::Detection>& detections, int width, int height, bool confidence);

// The image's pixels the box covers: x from floor(x1) to ceil(x2), y likewise, cut to the image;
// empty when nothing of the box is inside it.
cv::Rect crop_rect(const data::Box& box, cv::Size image);

// A class name made a safe directory name: '/', '\\' and control characters become '_', and "", "."
// and ".." become "_", "_." and "_..".
std::string class_directory(const std::string& name);

// Writes each detection's crop of rgb (CV_8UC3, RGB) to dir/<class directory>/<stem>_<n>.jpg, n = 1,
// 2, ... in the given order (stem may hold '/': subdirectories are made). Returns how many it wrote;
// IoError naming the file when one cannot be written.
size_t write_crops(const cv::Mat& rgb, const std::vector<data::Detection>& detections,
                   const std::vector<std::string>& classes, const std::filesystem::path& dir, const std::string& stem);

// Draws the detections (class name and score) on rgb with image::draw_boxes.
void draw_detections(cv::Mat& rgb, const std::vector<data::Detection>& detections,
                     const std::vector<std::string>& classes);

// Writes an RGB image as JPEG (or as the extension says); IoError naming `file` when it cannot.
void write_rgb_image(const cv::Mat& rgb, const std::filesystem::path& file);

}  // namespace cvtk::detection

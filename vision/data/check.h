#pragma once
// Dataset checking: reads a dataset leniently and lists every problem instead of stopping at the
// first, so a user can fix a dataset in one pass.
//
// Without a split, everything the dataset holds is checked: VOC reads every annotation and checks
// every split list (ImageSets/Main/<split>.txt) against them; YOLO and COCO directories check each of
// their splits (images/<split>/, annotations/instances_<split>.json) in turn and add up the counts.
// A check that finds no images at all says so as a problem ("no_images"): an empty or misread dataset
// is never "no problems found".
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "vision/data/dataset_io.h"
#include "vision/data/image_size.h"

namespace cvtk::data {

// Decodes an image in full and returns its size; throws FormatError or IoError naming the file when it
// cannot (corrupt, truncated, not an image, above the pixel limit).
using ImageDecoder = std::function<ImageSize(const std::filesystem::path&)>;

struct CheckOptions {
  ReadOptions read;     // format, split, classes file
  bool decode = false;  // open every image (slow) instead of only reading its header
  int threads = 0;      // 0: all cores
  // The decoder `decode` uses. The cvtk command passes vision/image's decode_image, so a clean check
  // means training, evaluation and prediction decode every image. Unset: this library's own, which
  // makes the same container and size checks (image_size.h) and then decodes with OpenCV; it finds
  // the same files bad, but OpenCV prints libjpeg's warnings about damaged JPEG data on stderr.
  ImageDecoder decoder;
};

struct CheckReport {
  std::string source;
  std::string format;
  std::vector<std::string> splits;  // checked one by one; empty when the dataset was checked as a whole
  size_t images = 0;
  size_t objects = 0;
  std::vector<std::string> classes;  // every split's classes, in order of first appearance
  std::vector<size_t> objects_per_class;
  std::vector<size_t> images_per_class;
  size_t empty_images = 0;  // images without objects: legitimate negatives, reported but not a problem
  size_t difficult = 0;
  size_t crowd = 0;
  std::vector<Issue> issues;  // problems, in file order
  std::map<std::string, size_t> issues_by_kind;

  bool clean() const { return issues.empty(); }
};

// Throws IoError only when the dataset cannot be opened at all (a missing path, a layout it cannot
// tell, a split that was asked for and is not there, a COCO file it cannot read); everything else,
// a file that does not parse included, becomes an Issue.
CheckReport check_dataset(const std::filesystem::path& path, const CheckOptions& options);

// A human-readable summary; at most max_listed issues are printed one per line, the rest counted.
void print_check_report(const CheckReport& report, std::ostream& out, size_t max_listed = 50);

}  // namespace cvtk::data

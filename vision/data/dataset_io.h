#pragma once
// Reading and writing datasets in the formats cvtk knows, with the format chosen from the path.
//
//   VOC   a directory holding Annotations/ (XML), JPEGImages/ and ImageSets/Main/<split>.txt.
//         Boxes: VOC's 1-based inclusive pixel indices become x1 = xmin - 1, y1 = ymin - 1,
//         x2 = xmax, y2 = ymax (and back on write).
//   COCO  an instances .json file; bbox [x, y, w, h] becomes [x, y, x + w, y + h]. Category ids are
//         mapped to 0-based labels in ascending id order and kept in Dataset::category_ids.
//   YOLO  a directory holding images/ and labels/ (one .txt per image: class cx cy w h, normalised),
//         and classes.txt (or data.yaml names); splits as images/<split>/ + labels/<split>/.
//
// Every reader throws FormatError naming the file, the entry and the field on bad input, and IoError
// for missing files. Nothing is dropped silently.
#include <filesystem>
#include <string>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::data {

// One problem found while reading leniently (ReadOptions::issues).
struct Issue {
  std::string file;   // the file the problem is in
  std::string entry;  // which record: "object 3", "annotations[12]"
  std::string field;  // the key or tag at fault, may be empty
  std::string kind;   // a stable short name: "parse", "unknown_class", "duplicate_id",
                      // "box_outside", "box_degenerate", "missing_field", "bad_value"
  std::string message;
};

enum class Format { kAuto, kVoc, kCoco, kYolo };

Format parse_format(const std::string& name);  // "voc" | "coco" | "yolo" | "auto"
std::string format_name(Format f);
// Decides a path's format from what is on disk: a .json file is COCO, a directory with Annotations/ is
// VOC, a directory with labels/ is YOLO. Throws IoError when it cannot tell.
Format detect_format(const std::filesystem::path& path);

struct ReadOptions {
  Format format = Format::kAuto;
  // VOC: ImageSets/Main/<split>.txt; YOLO: images/<split>/; "" reads every annotation (VOC: every
  // XML file in Annotations/, sorted by name) or the flat layout (YOLO). Ignored for COCO.
  std::string split;
  // A text file with one class name per line. VOC default: <root>/classes.txt when present, else the
  // names met in the annotations, sorted by name (byte order) so the order is deterministic.
  // YOLO default: <root>/classes.txt.
  std::filesystem::path classes_file;
  // COCO: directory the file_name entries are relative to. Default: the json's directory, or its
  // sibling images/ or JPEGImages/ folder when one exists.
  std::filesystem::path image_root;
  // YOLO has no image sizes in its labels; the reader opens each image header to get them.

  // Ground-truth boxes outside their image are an error by default; with clip_boxes they are clipped
  // to the image and counted in Dataset::clipped_boxes.
  bool clip_boxes = false;
  // When set, recoverable problems (a file that does not parse, an unknown class, a duplicate id, a
  // box outside its image or degenerate) are appended here and reading goes on: the bad file or object
  // is skipped, except boxes outside the image or degenerate, which are kept as read so a checker can
  // report them. When null, the first problem throws FormatError.
  std::vector<Issue>* issues = nullptr;
};

Dataset read_dataset(const std::filesystem::path& path, const ReadOptions& options = {});

// VOC: root directory; writes Annotations/, ImageSets/Main/<split or "all">.txt, classes.txt, and
// links (or copies) the images into JPEGImages/. COCO: the .json path. YOLO: root directory.
// Writes go to temporary files renamed into place, so a failure leaves no partial file.
struct WriteOptions {
  Format format = Format::kVoc;
  std::string split;        // overrides dataset.split for the ImageSets / images/<split> name
  bool copy_images = true;  // copy image files next to the annotations (false: annotations only)
};
void write_dataset(const Dataset& dataset, const std::filesystem::path& path, const WriteOptions& options);

// Individual formats, for callers that know which one they have.
Dataset read_voc(const std::filesystem::path& root, const ReadOptions& options = {});
Dataset read_coco(const std::filesystem::path& json_file, const ReadOptions& options = {});
Dataset read_yolo(const std::filesystem::path& root, const ReadOptions& options = {});

// Class names, one per line; blank lines and surrounding spaces are ignored; duplicates are an error.
std::vector<std::string> read_class_names(const std::filesystem::path& file);

}  // namespace cvtk::data

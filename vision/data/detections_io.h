#pragma once
// Detection files: COCO results JSON and PASCAL VOC per-class detection files.
//
//   COCO results  [{"image_id": 1, "category_id": 3, "bbox": [x, y, w, h], "score": 0.9}, ...]
//   VOC           <dir>/comp4_det_<split>_<class>.txt, one line per detection:
//                 "<image name> <score> <xmin> <ymin> <xmax> <ymax>" in VOC 1-based pixel indices.
//
// Detections are matched to a ground-truth Dataset's images, never by position:
//   - an integer COCO image_id is the ground truth's ImageRecord::id: the COCO file's own id, or for
//     VOC / YOLO / loose images the id derived from the image's name (vision/data/image_ids.h), which
//     is what cvtk's predict, eval --save-dets and data convert --to coco write;
//   - a string image_id, and a VOC file's image token, is matched to the image name, the file name
//     with or without its directories, or its stem, and must match exactly one image.
// Categories by COCO category id or VOC class name. What matches nothing, or more than one image, is
// a FormatError naming the file, the entry ("[12]", "line 7") and the field, unless
// DetectionReadOptions::skip_unknown counts and skips it.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::data {

struct DetectionReadOptions {
  // Detections for images or categories the ground truth does not have are an error by default; with
  // this set they are counted in the result and skipped.
  bool skip_unknown = false;
};

struct DetectionSet {
  std::vector<Detection> detections;  // in file order
  size_t skipped_unknown_image = 0;   // matched no image, or more than one (skip_unknown)
  size_t skipped_unknown_class = 0;
  // Detections whose box reaches outside its image. Models often predict such boxes and the reference
  // evaluators accept them, so they are kept and only counted.
  size_t outside_image = 0;
  std::string source;
};

DetectionSet read_coco_results(const std::filesystem::path& file, const Dataset& ground_truth,
                               const DetectionReadOptions& options = {});
void write_coco_results(const std::vector<Detection>& detections, const Dataset& ground_truth,
                        const std::filesystem::path& file);
// The text write_coco_results writes, for callers that commit several files together.
std::string coco_results_text(const std::vector<Detection>& detections, const Dataset& ground_truth);

// Reads every comp4_det_<split>_<class>.txt in dir for the ground truth's classes (a class with no file
// has no detections). split defaults to ground_truth.split, or "test" when that is empty.
DetectionSet read_voc_detections(const std::filesystem::path& dir, const Dataset& ground_truth,
                                 const std::string& split = "", const DetectionReadOptions& options = {});
void write_voc_detections(const std::vector<Detection>& detections, const Dataset& ground_truth,
                          const std::filesystem::path& dir, const std::string& split = "");

// A .json path is COCO results; a directory is VOC per-class files.
DetectionSet read_detections(const std::filesystem::path& path, const Dataset& ground_truth,
                             const DetectionReadOptions& options = {});

}  // namespace cvtk::data

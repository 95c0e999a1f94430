#pragma once
// Detection files: COCO results JSON and PASCAL VOC per-class detection files.
//
//   COCO results  [{"image_id": 1, "category_id": 3, "bbox": [x, y, w, h], "score": 0.9}, ...]
//   VOC           <dir>/comp4_det_<split>_<class>.txt, one line per detection:
//                 "<image name> <score> <xmin> <ymin> <xmax> <ymax>" in VOC 1-based pixel indices.
//
// Detections are matched to a ground-truth Dataset: COCO by image id (or, failing that, by file name),
// VOC by image name; categories by COCO category id or VOC class name.
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
  size_t skipped_unknown_image = 0;
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

#pragma once
// What a training run records per epoch, and the writers that record it: results.csv and
// results.jsonl in the run directory, one row per epoch, the same fields in both (the column list
// below is the only place they are named). A resumed run appends to the files it finds.
//
// Units: seconds; learning rate as applied at the epoch's last step; losses are means over the
// epoch's steps; validation figures are -1 where the epoch did not validate.
#include <array>
#include <filesystem>
#include <fstream>
#include <string>

namespace cvtk::detection {

// The four terms of ThunderNet's loss (thundernet.h LossTerms), in this order everywhere.
inline constexpr std::array<const char*, 4> kLossTermNames = {"rpn_objectness", "rpn_box", "rcnn_classification",
                                                              "rcnn_box"};

struct Validation {
  double map50 = -1, voc07 = -1, coco_ap = -1, coco_ap50 = -1;  // VOC all-point, VOC07 11-point, COCO
};

struct EpochRecord {
  int epoch = 0;   // 1-based, completed
  long steps = 0;  // optimiser steps taken in the run so far
  double lr = 0;
  double loss = 0;
  std::array<double, 4> terms{};  // kLossTermNames
  double images_per_s = 0, data_s = 0, step_s = 0;
  long empty_images = 0;  // images without objects seen this epoch
  Validation val;
  double seconds = 0, peak_mb = 0;
};

// One file of epoch rows. Creating it with append = false writes a new file (and the CSV header).
class EpochLog {
 public:
  enum class Format { csv, json_lines };
  EpochLog(const std::filesystem::path& file, Format format, bool append);
  void write(const EpochRecord& record);  // flushed at once, so an interrupted run keeps its rows

 private:
  std::ofstream out_;
  Format format_;
};

}  // namespace cvtk::detection

#pragma once
// Dataset statistics: per-class image and object counts, box size and aspect distributions, per split.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::data {

struct Distribution {
  size_t count = 0;
  double min = 0, p10 = 0, median = 0, p90 = 0, max = 0, mean = 0;
  std::vector<double> values;  // kept for histograms
};

struct ClassStats {
  std::string name;
  size_t images = 0;
  size_t objects = 0;
  Distribution size;    // sqrt(box area), pixels
  Distribution aspect;  // width / height
};

struct SplitStats {
  std::string split;  // "" for a dataset without splits
  size_t images = 0;
  size_t objects = 0;
  size_t empty_images = 0;
  size_t small = 0, medium = 0, large = 0;  // COCO area ranges (< 32^2, < 96^2, rest)
  std::vector<ClassStats> classes;
  Distribution size, aspect, objects_per_image;
};

SplitStats compute_stats(const Dataset& dataset);

// The splits a dataset path has: VOC ImageSets/Main/<split>.txt (not the per-class lists), YOLO
// images/<split>/, COCO annotations/instances_<split>.json; empty when it has none.
std::vector<std::string> list_splits(const std::filesystem::path& path);

void print_stats(const SplitStats& stats, std::ostream& out);

// A PNG with one panel per split row: objects per class, box size histogram, aspect histogram.
void plot_stats(const std::vector<SplitStats>& stats, const std::filesystem::path& png_file);

}  // namespace cvtk::data

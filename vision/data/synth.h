#pragma once
// A synthetic detection dataset in VOC layout: filled shapes of several classes with varied size,
// colour, rotation and partial occlusion on noisy or textured backgrounds, split into train and val.
// The same options and seed give byte-identical files on any thread count: every image is drawn from
// its own generator seeded by (seed, split, index).
//
// Boxes are the tight axis-aligned bounds of each shape as drawn (integers, continuous coordinates),
// including the parts hidden behind later shapes; occlusion is limited so every object stays mostly
// visible (at most max_occlusion of its box covered by later shapes' boxes).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cvtk::data {

struct SynthOptions {
  int train_images = 400;
  int val_images = 100;
  int width = 320;  // pixels
  int height = 320;
  int max_objects = 6;  // per image; 1..max_objects, some images get none
  int min_size = 24;    // shape size (circumscribed diameter) range, pixels
  int max_size = 112;
  double max_occlusion = 0.35;
  double empty_fraction = 0.03;  // images without objects (negatives)
  int jpeg_quality = 92;
  uint64_t seed = 0;
};

// The class names, in label order.
const std::vector<std::string>& synth_class_names();

struct SynthSummary {
  int images = 0;
  int objects = 0;
  std::vector<int> objects_per_class;
};

// Writes out/JPEGImages, out/Annotations, out/ImageSets/Main/{train,val}.txt and out/classes.txt.
// out must not exist or be empty; it appears complete or not at all.
SynthSummary write_synthetic_dataset(const std::filesystem::path& out, const SynthOptions& options);

}  // namespace cvtk::data

#pragma once
// What `cvtk augment preview` and `cvtk augment list` do: run a pipeline on the first images of a
// dataset exactly as the loader would in epoch 0 (record i draws from Rng(seed, 0, i), the batch size
// is the context), draw the resulting boxes with class names, and write each image and a mosaic.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace cvtk::augment {

struct PreviewOptions {
  std::filesystem::path dataset;  // VOC dir, COCO json or YOLO dir (format detected)
  std::string split;
  std::string pipeline = "thundernet-train";  // preset name or spec
  int n = 16;
  int size = 320;  // the context size (square)
  uint64_t seed = 0;
  // Where to write. An existing non-empty directory is not overwritten: a numbered sibling is used
  // (preview -> preview2), or with exist_ok its contents are replaced whole (vision/data/output_dir.h).
  std::filesystem::path out;
  bool exist_ok = false;
  int columns = 4;  // mosaic columns
};

struct PreviewReport {
  std::filesystem::path out;                   // the directory written (options.out or a numbered sibling)
  std::vector<std::filesystem::path> written;  // per-image files, then mosaic.jpg, under out
  int skipped = 0;                             // images that did not decode
  int dropped_objects = 0;
};

// Prints the resolved pipeline first, then one line per image written. The outputs appear complete
// or not at all. None of the first n images readable: an error naming the dataset and the first
// failure, and nothing written.
PreviewReport write_preview(const PreviewOptions& options, std::ostream& log);

// The transform registry (name, kind, summary, describe() of its example) and every preset with its
// describe() lines.
void print_registry(std::ostream& out);

}  // namespace cvtk::augment

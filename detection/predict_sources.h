#pragma once
// What `cvtk predict --source` names, told apart from the text and what is on disk (no LibTorch).
//
// In this order:
//   - an existing directory or file that data::detect_format recognises: a dataset (VOC dir, COCO
//     json, YOLO dir), read with --format and --split;
//   - an existing directory: every image under it (recursively), sorted by relative path;
//   - an existing file with a video extension (.mp4, .avi, .mov, .mkv, ...): a video file;
//   - any other existing file: one image;
//   - a missing path made only of digits: a camera index (cv::VideoCapture(index));
//   - a missing path with a wildcard (* ? [...] or a ** component for any depth of directories): a
//     glob, expanded here (not by a shell), matches sorted; '*' and '?' do not match '/' or a leading
//     '.'. Its images are named relative to the pattern's directory part before the first wildcard;
//   - anything else: an IoError naming it.
#include <filesystem>
#include <string>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::detection {

enum class SourceKind { kDataset, kImages, kVideo, kCamera };

struct PredictSource {
  SourceKind kind = SourceKind::kImages;
  std::string text;                          // --source as given
  std::filesystem::path path;                // dataset, directory, image or video file; the glob's base directory
  std::vector<std::filesystem::path> files;  // kImages: images relative to `path`, sorted
  int camera = -1;                           // kCamera: the device index
  size_t ignored = 0;                        // glob matches that are not images (not read)
  bool glob = false;
};

// Tells the kind; for images and globs, lists the files. IoError naming the source when it does not
// exist, a glob matching no file ("--source runs/*.jpg: no file matches the pattern") or matching no image.
PredictSource resolve_source(const std::string& source);

// Files matching a glob pattern (see above), sorted; empty when none. Directories are not matches.
// *base is set to the pattern's literal directory prefix ("." when there is none).
std::vector<std::filesystem::path> expand_glob(const std::string& pattern, std::filesystem::path* base = nullptr);

bool has_wildcard(const std::string& text);
bool is_image_file(const std::filesystem::path& p);
bool is_video_file(const std::filesystem::path& p);

// A dataset without annotations over the source's images (kImages), with classes `classes`, ids from
// names (vision/data/image_ids.h) and sizes from the files' headers where they can be read.
data::Dataset images_dataset(const PredictSource& source, const std::vector<std::string>& classes);

}  // namespace cvtk::detection

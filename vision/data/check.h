#pragma once
// Dataset checking: reads a dataset leniently and lists every problem instead of stopping at the
// first, so a user can fix a dataset in one pass.
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "vision/data/dataset_io.h"

namespace cvtk::data {

struct CheckOptions {
  ReadOptions read;     // format, split, classes file
  bool decode = false;  // open every image (slow) instead of only checking the file exists
  int threads = 0;      // 0: all cores
};

struct CheckReport {
  std::string source;
  std::string format;
  size_t images = 0;
  size_t objects = 0;
  std::vector<std::string> classes;
  std::vector<size_t> objects_per_class;
  std::vector<size_t> images_per_class;
  size_t empty_images = 0;  // images without objects: legitimate negatives, reported but not a problem
  size_t difficult = 0;
  size_t crowd = 0;
  std::vector<Issue> issues;  // problems, in file order
  std::map<std::string, size_t> issues_by_kind;

  bool clean() const { return issues.empty(); }
};

// Throws IoError only when the dataset cannot be opened at all (missing directory or file, unknown
// layout, malformed JSON); everything else becomes an Issue.
CheckReport check_dataset(const std::filesystem::path& path, const CheckOptions& options);

// A human-readable summary; at most max_listed issues are printed one per line, the rest counted.
void print_check_report(const CheckReport& report, std::ostream& out, size_t max_listed = 50);

}  // namespace cvtk::data

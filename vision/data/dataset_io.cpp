#include "vision/data/dataset_io.h"

#include <algorithm>

#include "vision/data/output_dir.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace fs = std::filesystem;

namespace cvtk::data {

// Defined in voc.cpp, coco.cpp and yolo.cpp.
void write_voc(const Dataset& ds, const fs::path& root, const WriteOptions& options);
void write_coco(const Dataset& ds, const fs::path& json_file);
void write_yolo(const Dataset& ds, const fs::path& root, const WriteOptions& options);

Format parse_format(const std::string& name) {
  if (name == "voc") return Format::kVoc;
  if (name == "coco") return Format::kCoco;
  if (name == "yolo") return Format::kYolo;
  if (name == "auto" || name.empty()) return Format::kAuto;
  throw std::invalid_argument("unknown dataset format '" + name + "' (expected voc, coco, yolo or auto)");
}

std::string format_name(Format f) {
  switch (f) {
    case Format::kVoc:
      return "voc";
    case Format::kCoco:
      return "coco";
    case Format::kYolo:
      return "yolo";
    case Format::kAuto:
      return "auto";
  }
  return "?";
}

Format detect_format(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(path.string() + ": not found");
  if (fs::is_regular_file(path, ec)) {
    if (path.extension() == ".json") return Format::kCoco;
    throw IoError(path.string() + ": cannot tell the dataset format (a file must be a COCO .json)");
  }
  if (fs::is_directory(path / "Annotations", ec)) return Format::kVoc;
  if (fs::is_directory(path / "labels", ec) && fs::is_directory(path / "images", ec)) return Format::kYolo;
  // A directory holding one COCO json (e.g. written by `cvtk data convert --to coco`).
  if (fs::is_directory(path / "annotations", ec)) return Format::kCoco;
  throw IoError(path.string() +
                ": cannot tell the dataset format (expected Annotations/ for VOC, images/ + labels/ for YOLO, "
                "or a COCO .json file)");
}

namespace {

// A COCO dataset directory as written by write_dataset: annotations/instances_<split>.json.
fs::path coco_json_in_directory(const fs::path& dir, const std::string& split) {
  std::error_code ec;
  if (!split.empty()) {
    fs::path p = dir / "annotations" / ("instances_" + split + ".json");
    if (fs::exists(p, ec)) return p;
    throw IoError(p.string() + ": split '" + split + "' not found");
  }
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir / "annotations"))
    if (e.path().extension() == ".json") found.push_back(e.path());
  std::sort(found.begin(), found.end());
  if (found.size() == 1) return found.front();
  throw IoError(dir.string() + "/annotations: expected exactly one .json file, or pick one with --split");
}

}  // namespace

Dataset read_dataset(const fs::path& path, const ReadOptions& options) {
  Format f = options.format == Format::kAuto ? detect_format(path) : options.format;
  switch (f) {
    case Format::kVoc:
      return read_voc(path, options);
    case Format::kYolo:
      return read_yolo(path, options);
    case Format::kCoco: {
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        Dataset ds = read_coco(coco_json_in_directory(path, options.split), options);
        ds.split = options.split;
        return ds;
      }
      return read_coco(path, options);
    }
    case Format::kAuto:
      break;
  }
  throw IoError(path.string() + ": unknown format");
}

void write_dataset(const Dataset& dataset, const fs::path& path, const WriteOptions& options) {
  switch (options.format) {
    case Format::kVoc:
      write_voc(dataset, path, options);
      return;
    case Format::kYolo:
      write_yolo(dataset, path, options);
      return;
    case Format::kCoco: {
      if (path.extension() == ".json") {
        write_coco(dataset, path);
        return;
      }
      // A directory: images/ with copies, and annotations/instances_<split>.json naming them.
      StagedOutput out(path, /*replace=*/false);
      Dataset copy = dataset;
      const std::string split =
          !options.split.empty() ? options.split : (dataset.split.empty() ? "all" : dataset.split);
      fs::create_directories(out.staging() / "images");
      for (ImageRecord& rec : copy.images) {
        std::string name = fs::path(rec.file).filename().string();
        if (options.copy_images) {
          std::error_code ec;
          fs::copy_file(dataset.image_root / rec.file, out.staging() / "images" / name, ec);
          if (ec) throw IoError((dataset.image_root / rec.file).string() + ": cannot copy: " + ec.message());
        }
        rec.file = name;
      }
      write_coco(copy, out.staging() / "annotations" / ("instances_" + split + ".json"));
      out.commit();
      return;
    }
    case Format::kAuto:
      break;
  }
  throw std::invalid_argument("write_dataset: choose a format (voc, coco or yolo)");
}

}  // namespace cvtk::data

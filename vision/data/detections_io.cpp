#include "vision/data/detections_io.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <unordered_map>

#include "vision/data/coco_results_fast.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/issue_sink.h"
#include "vision/data/json_fields.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

// Where a detection's image key (a COCO results image_id string, a VOC detection file's image token)
// points: the one image whose name, file name with or without directories, or stem equals it. A key
// shared by two images is ambiguous and matches neither.
class NameIndex {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  void add(const std::string& key, size_t image) {
    auto [it, inserted] = map_.emplace(key, std::make_pair(image, kNone));
    if (!inserted && it->second.first != image && it->second.second == kNone) it->second.second = image;
  }
  // The image's index; kNone when unknown. When ambiguous, kNone and *ambiguous holds the two images.
  size_t find(const std::string& key, std::pair<size_t, size_t>* ambiguous) const {
    auto it = map_.find(key);
    if (it == map_.end()) return kNone;
    if (it->second.second != kNone) {
      *ambiguous = it->second;
      return kNone;
    }
    return it->second.first;
  }

 private:
  std::unordered_map<std::string, std::pair<size_t, size_t>> map_;
};

struct GroundTruthIndex {
  std::unordered_map<int64_t, size_t> by_id;
  NameIndex by_name;  // record name and file name (with and without dirs) and stem
  std::unordered_map<int64_t, int> label_of_category;
  std::unordered_map<std::string, int> label_of_name;

  explicit GroundTruthIndex(const Dataset& gt) {
    by_id.reserve(gt.images.size());
    for (size_t i = 0; i < gt.images.size(); ++i) {
      const ImageRecord& r = gt.images[i];
      by_id.emplace(r.id, i);
      const fs::path file(r.file);
      for (const std::string& key :
           {r.name, r.file, file.generic_string(), file.filename().string(), file.stem().string()})
        if (!key.empty()) by_name.add(key, i);
    }
    for (size_t k = 0; k < gt.classes.size(); ++k) {
      label_of_category.emplace(gt.category_id(static_cast<int>(k)), static_cast<int>(k));
      label_of_name.emplace(gt.classes[k], static_cast<int>(k));
    }
  }
};

std::string ambiguity(const Dataset& gt, const std::string& key, std::pair<size_t, size_t> images) {
  return "image '" + key + "' matches more than one ground-truth image ('" + gt.images[images.first].file + "' and '" +
         gt.images[images.second].file + "'); give the file name with its directories";
}

// Why an integer image_id found no image, with what to do about it.
std::string unknown_integer_id(const Dataset& gt, int64_t id) {
  std::string m = "image id " + std::to_string(id) + " is not in the ground truth " + gt.source;
  if (gt.ids_from_names && !gt.images.empty()) {
    const ImageRecord& r = gt.images.front();
    m += ": the ids of this dataset's images are derived from their names, not positions ('" + r.name + "' is " +
         std::to_string(r.id) + "; a digits-only name is its number); give image_id as the file name (\"" +
         fs::path(r.file).filename().string() + "\") or evaluate against the COCO json the ids come from";
  }
  return m;
}

bool outside(const Box& b, const ImageRecord& r) { return b.x1 < 0 || b.y1 < 0 || b.x2 > r.width || b.y2 > r.height; }

}  // namespace

DetectionSet read_coco_results(const fs::path& path, const Dataset& gt, const DetectionReadOptions& options) {
  // The common shape in one parallel pass (coco_results_fast.h); the general reader for everything
  // else and for every error.
  if (auto fast = detail::read_coco_results_fast(path, gt, options)) return std::move(*fast);
  return detail::read_coco_results_general(path, gt, options);
}

DetectionSet detail::read_coco_results_general(const fs::path& path, const Dataset& gt,
                                               const DetectionReadOptions& options) {
  const std::string file = path.string();
  const simdjson::padded_string bytes = detail::load_json_bytes(path);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = detail::parse_json_file(parser, bytes, file);
  simdjson::dom::array arr;
  if (doc.get_array().get(arr))
    throw FormatError(file, "", "",
                      std::string("expected a JSON array of detections, got ") + detail::json_type_name(doc.type()));
  GroundTruthIndex index(gt);
  detail::IssueSink sink(nullptr);
  DetectionSet out;
  out.source = file;
  out.detections.reserve(arr.size());
  size_t i = 0;
  for (simdjson::dom::element el : arr) {
    detail::JsonEntry e{file, "", i++, sink};
    simdjson::dom::object o;
    if (el.get_object().get(o))
      e.fail("", "bad_value", std::string("expected an object, got ") + detail::json_type_name(el.type()));
    Detection d;
    // The image: by integer id, or by file name when image_id is a string.
    size_t image = 0;
    simdjson::dom::element idv;
    if (o.at_key("image_id").get(idv)) e.fail("image_id", "missing_field", "missing");
    std::string_view id_text;
    int64_t image_id = 0;
    bool known = true;
    if (!idv.get_string().get(id_text)) {
      const std::string key(id_text);
      std::pair<size_t, size_t> two{NameIndex::kNone, NameIndex::kNone};
      image = index.by_name.find(key, &two);
      known = image != NameIndex::kNone;
      if (!known && !options.skip_unknown) {
        if (two.second != NameIndex::kNone) e.fail("image_id", "ambiguous_image", ambiguity(gt, key, two));
        e.fail("image_id", "unknown_image",
               "image '" + key + "' is not in the ground truth " + gt.source +
                   " (a string image_id is matched to file names, with or without directories, and stems)");
      }
    } else {
      detail::get_int(e, o, "image_id", image_id);
      auto it = index.by_id.find(image_id);
      known = it != index.by_id.end();
      if (known) image = it->second;
      if (!known && !options.skip_unknown) e.fail("image_id", "unknown_image", unknown_integer_id(gt, image_id));
    }
    int64_t category_id;
    detail::get_int(e, o, "category_id", category_id);
    double xywh[4];
    detail::get_xywh(e, o, "bbox", xywh);
    detail::get_number(e, o, "score", d.score);
    if (!known) {
      ++out.skipped_unknown_image;
      continue;
    }
    auto cat = index.label_of_category.find(category_id);
    if (cat == index.label_of_category.end()) {
      if (!options.skip_unknown)
        e.fail("category_id", "unknown_class",
               "category id " + std::to_string(category_id) + " is not in the ground truth's categories");
      ++out.skipped_unknown_class;
      continue;
    }
    d.label = cat->second;
    const ImageRecord& rec = gt.images[image];
    d.image_id = rec.id;
    d.box = Box{xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3]};
    if (outside(d.box, rec)) ++out.outside_image;
    out.detections.push_back(d);
  }
  return out;
}

void write_coco_results(const std::vector<Detection>& detections, const Dataset& gt, const fs::path& file) {
  write_file_atomic(file, coco_results_text(detections, gt));
}

std::string coco_results_text(const std::vector<Detection>& detections, const Dataset& gt) {
  std::string text;
  text.reserve(detections.size() * 110 + 4);
  text += "[";
  bool first = true;
  for (const Detection& d : detections) {
    text += first ? "\n" : ",\n";
    first = false;
    text += "{\"image_id\": " + std::to_string(d.image_id) +
            ", \"category_id\": " + std::to_string(gt.category_id(d.label)) + ", \"bbox\": [" +
            format_number(d.box.x1) + ", " + format_number(d.box.y1) + ", " + format_number(d.box.width()) + ", " +
            format_number(d.box.height()) + "], \"score\": " + format_number(d.score) + "}";
  }
  text += "\n]\n";
  return text;
}

DetectionSet read_voc_detections(const fs::path& dir, const Dataset& gt, const std::string& split_in,
                                 const DetectionReadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError(dir.string() + ": detections directory not found");
  const std::string split = !split_in.empty() ? split_in : (!gt.split.empty() ? gt.split : "test");
  GroundTruthIndex index(gt);
  DetectionSet out;
  out.source = dir.string();
  size_t files_found = 0;
  // Files for classes the ground truth does not have.
  const std::string prefix = "comp4_det_" + split + "_";
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || e.path().extension() != ".txt") continue;
    const std::string cls = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    if (!index.label_of_name.count(cls)) {
      if (!options.skip_unknown)
        throw FormatError(e.path().string(), "", "", "class '" + cls + "' is not in the ground truth's classes");
      // Counted in detections (non-blank lines), as for COCO results.
      std::istringstream in(read_file(e.path()));
      for (std::string line; std::getline(in, line);)
        if (line.find_first_not_of(" \t\r") != std::string::npos) ++out.skipped_unknown_class;
    }
  }
  for (size_t k = 0; k < gt.classes.size(); ++k) {
    const fs::path path = dir / (prefix + gt.classes[k] + ".txt");
    if (!fs::exists(path, ec)) continue;
    ++files_found;
    const std::string text = read_file(path);
    const std::string file = path.string();
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string entry = "line " + std::to_string(number);
      std::istringstream tokens(line);
      std::string image;
      tokens >> image;
      double v[5];
      static const char* kFields[] = {"score", "xmin", "ymin", "xmax", "ymax"};
      for (int f = 0; f < 5; ++f) {
        std::string t;
        if (!(tokens >> t))
          throw FormatError(file, entry, kFields[f], "missing (expected: image score xmin ymin xmax ymax)");
        char* end = nullptr;
        errno = 0;
        v[f] = std::strtod(t.c_str(), &end);
        if (*end != '\0' || errno == ERANGE || !std::isfinite(v[f]))
          throw FormatError(file, entry, kFields[f], "expected a finite number, got '" + t + "'");
      }
      std::pair<size_t, size_t> two{NameIndex::kNone, NameIndex::kNone};
      const size_t found = index.by_name.find(image, &two);
      if (found == NameIndex::kNone) {
        if (!options.skip_unknown) {
          if (two.second != NameIndex::kNone) throw FormatError(file, entry, "image", ambiguity(gt, image, two));
          throw FormatError(file, entry, "image", "image '" + image + "' is not in the ground truth " + gt.source);
        }
        ++out.skipped_unknown_image;
        continue;
      }
      if (v[3] < v[1] || v[4] < v[2])
        throw FormatError(file, entry, v[3] < v[1] ? "xmax" : "ymax", "box has xmax < xmin or ymax < ymin");
      Detection d;
      d.image_id = gt.images[found].id;
      d.label = static_cast<int>(k);
      d.score = v[0];
      d.box = Box{v[1] - 1, v[2] - 1, v[3], v[4]};
      if (outside(d.box, gt.images[found])) ++out.outside_image;
      out.detections.push_back(d);
    }
  }
  if (files_found == 0)
    throw IoError(dir.string() + ": no " + prefix + "<class>.txt files for the ground truth's classes");
  return out;
}

void write_voc_detections(const std::vector<Detection>& detections, const Dataset& gt, const fs::path& dir,
                          const std::string& split_in) {
  const std::string split = !split_in.empty() ? split_in : (!gt.split.empty() ? gt.split : "test");
  std::unordered_map<int64_t, size_t> by_id;
  for (size_t i = 0; i < gt.images.size(); ++i) by_id.emplace(gt.images[i].id, i);
  std::vector<std::string> texts(gt.classes.size());
  for (const Detection& d : detections) {
    auto it = by_id.find(d.image_id);
    if (it == by_id.end())
      throw std::invalid_argument("write_voc_detections: image id " + std::to_string(d.image_id) +
                                  " is not in the ground truth");
    if (d.label < 0 || static_cast<size_t>(d.label) >= texts.size())
      throw std::invalid_argument("write_voc_detections: label out of range");
    texts[d.label] += gt.images[it->second].name + " " + format_number(d.score) + " " + format_number(d.box.x1 + 1) +
                      " " + format_number(d.box.y1 + 1) + " " + format_number(d.box.x2) + " " +
                      format_number(d.box.y2) + "\n";
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (size_t k = 0; k < gt.classes.size(); ++k)
    write_file_atomic(dir / ("comp4_det_" + split + "_" + gt.classes[k] + ".txt"), texts[k]);
}

DetectionSet read_detections(const fs::path& path, const Dataset& gt, const DetectionReadOptions& options) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return read_voc_detections(path, gt, "", options);
  return read_coco_results(path, gt, options);
}

}  // namespace cvtk::data

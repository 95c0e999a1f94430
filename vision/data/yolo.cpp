// YOLO txt layout: images/[<split>/]*.{jpg,png,...}, labels/[<split>/]<stem>.txt with one line per
// object "class cx cy w h" normalised to [0, 1] by the image size, and classes.txt. Image sizes are
// not in the labels, so they come from the image headers (vision/data/image_size.h).
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <set>
#include <sstream>

#include "vision/data/output_dir.h"
#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/image_ids.h"
#include "vision/data/image_size.h"
#include "vision/data/issue_sink.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

// Label files usually carry 6 decimals; boxes touching the border may read a few 1e-6 outside.
constexpr double kRounding = 1e-5;
// The fields after the class, as messages name them.
const char* const kValueNames[4] = {"cx", "cy", "w", "h"};

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp";
}

struct Parsed {
  ImageRecord record;
  std::vector<Issue> issues;
  std::exception_ptr error;
  bool skipped = false;
};

}  // namespace

Dataset read_yolo(const fs::path& root, const ReadOptions& options) {
  std::error_code ec;
  const fs::path images_dir = root / "images" / options.split;
  const fs::path labels_dir = root / "labels" / options.split;
  if (!fs::is_directory(images_dir, ec)) throw IoError(images_dir.string() + ": YOLO images directory not found");
  if (!fs::is_directory(labels_dir, ec)) throw IoError(labels_dir.string() + ": YOLO labels directory not found");
  Dataset ds;
  ds.source = root.string();
  ds.image_root = root;
  ds.split = options.split;
  detail::IssueSink top(options.issues);  // problems of the dataset as a whole

  std::vector<fs::path> files;
  std::vector<std::string> subdirs;
  for (const auto& e : fs::directory_iterator(images_dir)) {
    if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path());
    if (e.is_directory()) subdirs.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  std::sort(subdirs.begin(), subdirs.end());
  // images/<split>/ only: reading the flat layout would find nothing and say nothing.
  if (files.empty() && !subdirs.empty() && options.split.empty()) {
    std::string names;
    for (const auto& d : subdirs) names += (names.empty() ? "" : ", ") + d;
    throw IoError(images_dir.string() + ": no images here, only the split directories " + names +
                  ": choose one with --split");
  }

  const fs::path classes_file = options.classes_file.empty() ? root / "classes.txt" : options.classes_file;
  if (!fs::exists(classes_file, ec)) {
    const std::string problem = "YOLO class names file not found (one name per line; --classes names another)";
    if (!top.lenient()) throw IoError(classes_file.string() + ": " + problem);
    top.report(classes_file.string(), "", "", "missing_file", problem);
    return ds;
  }
  try {
    ds.classes = read_class_names(classes_file);
  } catch (const FormatError& e) {
    top.report(e);  // lenient: without the names no label can be checked
    return ds;
  }

  const int num_classes = static_cast<int>(ds.classes.size());
  std::vector<Parsed> parsed(files.size());
  tbb::parallel_for(size_t(0), files.size(), [&](size_t i) {
    Parsed& out = parsed[i];
    detail::IssueSink sink(options.issues ? &out.issues : nullptr);
    try {
      ImageRecord& rec = out.record;
      rec.name = files[i].stem().string();
      rec.file = fs::relative(files[i], root).generic_string();
      std::optional<ImageSize> size;
      try {
        size = checked_image_size(files[i]);
      } catch (const FormatError& e) {
        sink.report(e);
      } catch (const IoError& e) {
        if (!sink.lenient()) throw;
        sink.report(files[i].string(), "", "", "unreadable_image", e.what());
      }
      if (!size) {
        out.skipped = true;
        return;
      }
      rec.width = size->width;
      rec.height = size->height;
      const fs::path label_file = labels_dir / (rec.name + ".txt");
      if (!fs::exists(label_file)) return;  // an image without a label file has no objects: a negative
      std::string text;
      try {
        text = read_file(label_file);
      } catch (const IoError& e) {
        if (!sink.lenient()) throw;
        sink.report(label_file.string(), "", "", "unreadable_file", e.what());
        return;
      }
      std::istringstream in(text);
      std::string line;
      int number = 0;
      while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string entry = "line " + std::to_string(number);
        std::istringstream tokens(line);
        std::vector<std::string> fields;
        for (std::string t; tokens >> t;) fields.push_back(t);
        if (fields.size() != 5) {
          sink.report(label_file.string(), entry, "", fields.size() < 5 ? "missing_field" : "bad_value",
                      "expected 5 values: class cx cy w h, got " + std::to_string(fields.size()) +
                          (fields.size() > 5 ? " (segmentation polygons and scores are not box labels)" : ""));
          continue;
        }
        const std::string& cls_text = fields[0];
        char* end = nullptr;
        errno = 0;
        const long cls = std::strtol(cls_text.c_str(), &end, 10);
        if (*end != '\0' || errno == ERANGE) {
          sink.report(label_file.string(), entry, "class", "bad_value",
                      "expected a class index (a whole number), got " + quote(cls_text));
          continue;
        }
        double v[4];
        bool ok = true;
        for (int k = 0; k < 4 && ok; ++k) {
          const std::string& t = fields[k + 1];
          errno = 0;
          v[k] = std::strtod(t.c_str(), &end);
          if (*end != '\0' || errno == ERANGE || !std::isfinite(v[k])) {
            sink.report(label_file.string(), entry, kValueNames[k], "bad_value",
                        "expected a finite number, got " + quote(t));
            ok = false;
          }
        }
        if (!ok) continue;
        if (cls < 0 || cls >= num_classes) {
          sink.report(label_file.string(), entry, "class", "unknown_class",
                      "class index " + std::to_string(cls) + " is not in " + classes_file.string() + " (" +
                          std::to_string(num_classes) + " classes)");
          continue;
        }
        Object obj;
        obj.label = static_cast<int>(cls);
        obj.id = number;
        const double W = rec.width, H = rec.height;
        obj.box = Box{(v[0] - v[2] / 2) * W, (v[1] - v[3] / 2) * H, (v[0] + v[2] / 2) * W, (v[1] + v[3] / 2) * H};
        if (v[2] < 0 || v[3] < 0) {
          sink.report(label_file.string(), entry, v[2] < 0 ? "w" : "h", "box_degenerate", "negative width or height");
        } else if (obj.box.x1 < -W * kRounding || obj.box.y1 < -H * kRounding || obj.box.x2 > W * (1 + kRounding) ||
                   obj.box.y2 > H * (1 + kRounding)) {
          if (options.clip_boxes) {
            obj.box.x1 = std::clamp(obj.box.x1, 0.0, W);
            obj.box.x2 = std::clamp(obj.box.x2, 0.0, W);
            obj.box.y1 = std::clamp(obj.box.y1, 0.0, H);
            obj.box.y2 = std::clamp(obj.box.y2, 0.0, H);
            obj.area = -2;
          } else {
            sink.report(label_file.string(), entry, "", "box_outside",
                        "box cx=" + fields[1] + " cy=" + fields[2] + " w=" + fields[3] + " h=" + fields[4] +
                            " reaches outside the image (normalised coordinates run 0..1)");
          }
        }
        // Within the format's rounding of the image border: on the border.
        obj.box.x1 = std::max(obj.box.x1, 0.0);
        obj.box.y1 = std::max(obj.box.y1, 0.0);
        obj.box.x2 = std::min(obj.box.x2, W);
        obj.box.y2 = std::min(obj.box.y2, H);
        rec.objects.push_back(obj);
      }
    } catch (...) {
      out.error = std::current_exception();
    }
  });

  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].error) std::rethrow_exception(parsed[i].error);
    if (options.issues) options.issues->insert(options.issues->end(), parsed[i].issues.begin(), parsed[i].issues.end());
    if (parsed[i].skipped) continue;
    ImageRecord rec = std::move(parsed[i].record);
    for (auto& o : rec.objects)
      if (o.area == -2) {
        o.area = -1;
        ++ds.clipped_boxes;
      }
    ds.images.push_back(std::move(rec));
  }
  // Label files without an image: their boxes would be left out without a word. (labelImg keeps a
  // classes.txt beside the labels.)
  std::set<std::string> stems;
  for (const auto& f : files) stems.insert(f.stem().string());
  std::vector<fs::path> orphans;
  for (const auto& e : fs::directory_iterator(labels_dir))
    if (e.is_regular_file() && e.path().extension() == ".txt" && e.path().filename() != "classes.txt" &&
        !stems.count(e.path().stem().string()))
      orphans.push_back(e.path());
  std::sort(orphans.begin(), orphans.end());
  for (const auto& o : orphans)
    top.report(o.string(), "", "", "missing_image",
               "label file without an image (no " + (images_dir / o.stem()).string() + " with an image extension)");
  assign_image_ids(ds, options.issues);  // ids from names, never positions (image_ids.h)
  return ds;
}

void write_yolo(const Dataset& ds, const fs::path& root, const WriteOptions& options) {
  StagedOutput out(root, /*replace=*/false);
  const std::string split = !options.split.empty() ? options.split : ds.split;
  const fs::path images_dir = out.staging() / "images" / split;
  const fs::path labels_dir = out.staging() / "labels" / split;
  fs::create_directories(images_dir);
  fs::create_directories(labels_dir);
  std::set<std::string> names;
  for (const ImageRecord& rec : ds.images) {
    std::string stem = rec.name;
    std::replace(stem.begin(), stem.end(), '/', '_');
    if (!names.insert(stem).second)
      throw FormatError(ds.source, "image '" + rec.name + "'", "name",
                        "two images map to the same YOLO file '" + stem + "'");
    const fs::path src = ds.image_root / rec.file;
    std::string ext = fs::path(rec.file).extension().string();
    if (ext.empty()) ext = ".jpg";
    if (options.copy_images) {
      std::error_code ec;
      fs::copy_file(src, images_dir / (stem + ext), ec);
      if (ec) throw IoError(src.string() + ": cannot copy: " + ec.message());
    }
    std::string text;
    char line[160];
    for (const Object& o : rec.objects) {
      const double W = rec.width, H = rec.height;
      std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f\n", o.label, (o.box.x1 + o.box.x2) / 2 / W,
                    (o.box.y1 + o.box.y2) / 2 / H, o.box.width() / W, o.box.height() / H);
      text += line;
    }
    write_file_atomic(labels_dir / (stem + ".txt"), text);
  }
  std::string classes;
  for (const auto& c : ds.classes) classes += c + "\n";
  write_file_atomic(out.staging() / "classes.txt", classes);
  out.commit();
}

}  // namespace cvtk::data

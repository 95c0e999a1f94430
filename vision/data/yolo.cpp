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
#include <set>
#include <sstream>

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
  const fs::path classes_file = options.classes_file.empty() ? root / "classes.txt" : options.classes_file;
  if (!fs::exists(classes_file, ec))
    throw IoError(classes_file.string() + ": YOLO class names file not found (one name per line)");
  ds.classes = read_class_names(classes_file);

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(images_dir))
    if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());

  const int num_classes = static_cast<int>(ds.classes.size());
  std::vector<Parsed> parsed(files.size());
  tbb::parallel_for(size_t(0), files.size(), [&](size_t i) {
    Parsed& out = parsed[i];
    detail::IssueSink sink(options.issues ? &out.issues : nullptr);
    try {
      ImageRecord& rec = out.record;
      rec.name = files[i].stem().string();
      rec.file = fs::relative(files[i], root).generic_string();
      const auto size = read_image_size(files[i]);
      if (!size) {
        sink.report(files[i].string(), "", "", "unreadable_image", "cannot read the image size (corrupt or not an image)");
        out.skipped = true;
        return;
      }
      rec.width = size->width;
      rec.height = size->height;
      const fs::path label_file = labels_dir / (rec.name + ".txt");
      if (!fs::exists(label_file)) return;  // an image without a label file has no objects
      const std::string text = read_file(label_file);
      std::istringstream in(text);
      std::string line;
      int number = 0;
      while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string entry = "line " + std::to_string(number);
        std::istringstream tokens(line);
        std::string cls_text;
        double v[4];
        tokens >> cls_text;
        char* end = nullptr;
        const long cls = std::strtol(cls_text.c_str(), &end, 10);
        if (cls_text.empty() || *end != '\0') {
          sink.report(label_file.string(), entry, "class", "bad_value", "expected a class index, got '" + cls_text + "'");
          continue;
        }
        bool ok = true;
        for (int k = 0; k < 4 && ok; ++k) {
          std::string t;
          if (!(tokens >> t)) {
            sink.report(label_file.string(), entry, k < 2 ? "center" : "size", "missing_field",
                        "expected 5 values: class cx cy w h");
            ok = false;
            break;
          }
          errno = 0;
          v[k] = std::strtod(t.c_str(), &end);
          if (*end != '\0' || errno == ERANGE || !std::isfinite(v[k])) {
            sink.report(label_file.string(), entry, "value " + std::to_string(k + 2), "bad_value",
                        "expected a number, got '" + t + "'");
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
          sink.report(label_file.string(), entry, "size", "box_degenerate", "negative width or height");
        } else if (obj.box.x1 < -W * kRounding || obj.box.y1 < -H * kRounding || obj.box.x2 > W * (1 + kRounding) ||
                   obj.box.y2 > H * (1 + kRounding)) {
          if (options.clip_boxes) {
            obj.box.x1 = std::clamp(obj.box.x1, 0.0, W);
            obj.box.x2 = std::clamp(obj.box.x2, 0.0, W);
            obj.box.y1 = std::clamp(obj.box.y1, 0.0, H);
            obj.box.y2 = std::clamp(obj.box.y2, 0.0, H);
            obj.area = -2;
          } else {
            sink.report(label_file.string(), entry, "", "box_outside", "box reaches outside the image (normalised values outside [0, 1])");
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
  assign_image_ids(ds, options.issues);  // ids from names, never positions (image_ids.h)
  return ds;
}

void write_yolo(const Dataset& ds, const fs::path& root, const WriteOptions& options) {
  StagedDirectory out(root);
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
      throw FormatError(ds.source, "image '" + rec.name + "'", "name", "two images map to the same YOLO file '" + stem + "'");
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

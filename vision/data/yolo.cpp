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

// The images of one split, sorted; IoError when the directory holds only split directories and no
// split was chosen.
std::vector<fs::path> list_images(const fs::path& images_dir, const std::string& split) {
  std::vector<fs::path> files;
  std::vector<std::string> subdirs;
  for (const auto& e : fs::directory_iterator(images_dir)) {
    if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path());
    if (e.is_directory()) subdirs.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  std::sort(subdirs.begin(), subdirs.end());
  // images/<split>/ only: reading the flat layout would find nothing and say nothing.
  if (files.empty() && !subdirs.empty() && split.empty()) {
    std::string names;
    for (const auto& d : subdirs) names += (names.empty() ? "" : ", ") + d;
    throw IoError(images_dir.string() + ": no images here, only the split directories " + names +
                  ": choose one with --split");
  }
  return files;
}

// False, after reporting, when lenient reading found no usable class names.
bool read_yolo_classes(const fs::path& classes_file, detail::IssueSink& top, Dataset& ds) {
  std::error_code ec;
  if (!fs::exists(classes_file, ec)) {
    const std::string problem = "YOLO class names file not found (one name per line; --classes names another)";
    if (!top.lenient()) throw IoError(classes_file.string() + ": " + problem);
    top.report(classes_file.string(), "", "", "missing_file", problem);
    return false;
  }
  try {
    ds.classes = read_class_names(classes_file);
  } catch (const FormatError& e) {
    top.report(e);  // lenient: without the names no label can be checked
    return false;
  }
  return true;
}

// What every label file is read against.
struct LabelContext {
  const fs::path& root;
  const fs::path& labels_dir;
  const fs::path& classes_file;
  int num_classes;
  bool clip_boxes;
};

struct LabelFile {
  const fs::path& path;
  detail::IssueSink& sink;

  void report(const std::string& entry, const std::string& field, const std::string& kind,
              const std::string& message) const {
    sink.report(path.string(), entry, field, kind, message);
  }
};

// The class and the four numbers of a 5-field line; false (reported) when one does not parse.
bool parse_label_values(const std::vector<std::string>& fields, const std::string& entry, const LabelFile& label,
                        long& cls, double v[4]) {
  const std::string& cls_text = fields[0];
  char* end = nullptr;
  errno = 0;
  cls = std::strtol(cls_text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) {
    label.report(entry, "class", "bad_value", "expected a class index (a whole number), got " + quote(cls_text));
    return false;
  }
  for (int k = 0; k < 4; ++k) {
    const std::string& t = fields[k + 1];
    errno = 0;
    v[k] = std::strtod(t.c_str(), &end);
    if (*end != '\0' || errno == ERANGE || !std::isfinite(v[k])) {
      label.report(entry, kValueNames[k], "bad_value", "expected a finite number, got " + quote(t));
      return false;
    }
  }
  return true;
}

// Reports degenerate and (unless clipped) outside boxes; area -2 marks a clipped box until the merge counts it.
void fit_box_to_image(const std::vector<std::string>& fields, const double v[4], const std::string& entry,
                      const LabelFile& label, bool clip_boxes, double W, double H, Object& obj) {
  if (v[2] < 0 || v[3] < 0) {
    label.report(entry, v[2] < 0 ? "w" : "h", "box_degenerate", "negative width or height");
  } else if (obj.box.x1 < -W * kRounding || obj.box.y1 < -H * kRounding || obj.box.x2 > W * (1 + kRounding) ||
             obj.box.y2 > H * (1 + kRounding)) {
    if (clip_boxes) {
      obj.box.x1 = std::clamp(obj.box.x1, 0.0, W);
      obj.box.x2 = std::clamp(obj.box.x2, 0.0, W);
      obj.box.y1 = std::clamp(obj.box.y1, 0.0, H);
      obj.box.y2 = std::clamp(obj.box.y2, 0.0, H);
      obj.area = -2;
    } else {
      label.report(entry, "", "box_outside",
                   "box cx=" + fields[1] + " cy=" + fields[2] + " w=" + fields[3] + " h=" + fields[4] +
                       " reaches outside the image (normalised coordinates run 0..1)");
    }
  }
  // Within the format's rounding of the image border: on the border.
  obj.box.x1 = std::max(obj.box.x1, 0.0);
  obj.box.y1 = std::max(obj.box.y1, 0.0);
  obj.box.x2 = std::min(obj.box.x2, W);
  obj.box.y2 = std::min(obj.box.y2, H);
}

void parse_label_line(const std::string& line, int number, const LabelFile& label, const LabelContext& ctx,
                      ImageRecord& rec) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return;
  const std::string entry = "line " + std::to_string(number);
  std::istringstream tokens(line);
  std::vector<std::string> fields;
  for (std::string t; tokens >> t;) fields.push_back(t);
  if (fields.size() != 5) {
    label.report(entry, "", fields.size() < 5 ? "missing_field" : "bad_value",
                 "expected 5 values: class cx cy w h, got " + std::to_string(fields.size()) +
                     (fields.size() > 5 ? " (segmentation polygons and scores are not box labels)" : ""));
    return;
  }
  long cls;
  double v[4];
  if (!parse_label_values(fields, entry, label, cls, v)) return;
  if (cls < 0 || cls >= ctx.num_classes) {
    label.report(entry, "class", "unknown_class",
                 "class index " + std::to_string(cls) + " is not in " + ctx.classes_file.string() + " (" +
                     std::to_string(ctx.num_classes) + " classes)");
    return;
  }
  Object obj;
  obj.label = static_cast<int>(cls);
  obj.id = number;
  const double W = rec.width, H = rec.height;
  obj.box = Box{(v[0] - v[2] / 2) * W, (v[1] - v[3] / 2) * H, (v[0] + v[2] / 2) * W, (v[1] + v[3] / 2) * H};
  fit_box_to_image(fields, v, entry, label, ctx.clip_boxes, W, H, obj);
  rec.objects.push_back(obj);
}

std::optional<ImageSize> image_size_or_report(const fs::path& image, detail::IssueSink& sink) {
  try {
    return checked_image_size(image);
  } catch (const FormatError& e) {
    sink.report(e);
  } catch (const IoError& e) {
    if (!sink.lenient()) throw;
    sink.report(image.string(), "", "", "unreadable_image", e.what());
  }
  return std::nullopt;
}

void parse_image(const fs::path& image, const LabelContext& ctx, const ReadOptions& options, Parsed& out) {
  detail::IssueSink sink(options.issues ? &out.issues : nullptr);
  try {
    ImageRecord& rec = out.record;
    rec.name = image.stem().string();
    rec.file = fs::relative(image, ctx.root).generic_string();
    const std::optional<ImageSize> size = image_size_or_report(image, sink);
    if (!size) {
      out.skipped = true;
      return;
    }
    rec.width = size->width;
    rec.height = size->height;
    const fs::path label_file = ctx.labels_dir / (rec.name + ".txt");
    if (!fs::exists(label_file)) return;  // an image without a label file has no objects: a negative
    std::string text;
    try {
      text = read_file(label_file);
    } catch (const IoError& e) {
      if (!sink.lenient()) throw;
      sink.report(label_file.string(), "", "", "unreadable_file", e.what());
      return;
    }
    const LabelFile label{label_file, sink};
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) parse_label_line(line, ++number, label, ctx, rec);
  } catch (...) {
    out.error = std::current_exception();
  }
}

void merge_parsed(std::vector<Parsed>& parsed, std::vector<Issue>* issues, Dataset& ds) {
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].error) std::rethrow_exception(parsed[i].error);
    if (issues) issues->insert(issues->end(), parsed[i].issues.begin(), parsed[i].issues.end());
    if (parsed[i].skipped) continue;
    ImageRecord rec = std::move(parsed[i].record);
    for (auto& o : rec.objects)
      if (o.area == -2) {
        o.area = -1;
        ++ds.clipped_boxes;
      }
    ds.images.push_back(std::move(rec));
  }
}

// Label files without an image: their boxes would be left out without a word. (labelImg keeps a
// classes.txt beside the labels.)
void report_orphan_labels(const std::vector<fs::path>& files, const fs::path& images_dir, const fs::path& labels_dir,
                          detail::IssueSink& top) {
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
}

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

  const std::vector<fs::path> files = list_images(images_dir, options.split);
  const fs::path classes_file = options.classes_file.empty() ? root / "classes.txt" : options.classes_file;
  if (!read_yolo_classes(classes_file, top, ds)) return ds;

  const LabelContext ctx{root, labels_dir, classes_file, static_cast<int>(ds.classes.size()), options.clip_boxes};
  std::vector<Parsed> parsed(files.size());
  tbb::parallel_for(size_t(0), files.size(), [&](size_t i) { parse_image(files[i], ctx, options, parsed[i]); });

  merge_parsed(parsed, options.issues, ds);
  report_orphan_labels(files, images_dir, labels_dir, top);
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

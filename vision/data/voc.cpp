// Reading the PASCAL VOC layout (voc_write.cpp writes it): Annotations/<id>.xml, JPEGImages/<id>.<ext>,
// ImageSets/Main/<split>.txt.
// VOC boxes are 1-based inclusive pixel indices; inside cvtk x1 = xmin - 1, y1 = ymin - 1, x2 = xmax,
// y2 = ymax, so a box's width is xmax - xmin + 1 as the devkit counts it.
#include <pugixml.hpp>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/image_ids.h"
#include "vision/data/issue_sink.h"
#include "vision/data/voc_xml.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

// Image sides are ints inside cvtk; no real image comes near (the pixel limit, image_size.h, is far lower).
constexpr double kMaxSide = 1 << 30;

struct RawObject {
  std::string name;
  Object object;
};

struct ParsedFile {
  ImageRecord record;
  std::vector<RawObject> objects;
  std::vector<Issue> issues;
  std::exception_ptr error;
  bool skipped = false;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Parses a number field; reports a missing or non-numeric value.
bool parse_number(const pugi::xml_node& parent, const char* tag, const std::string& file, const std::string& entry,
                  const std::string& field, detail::IssueSink& sink, double& out) {
  pugi::xml_node n = parent.child(tag);
  if (!n) {
    sink.report(file, entry, field, "missing_field", "missing");
    return false;
  }
  const std::string text = trim(n.child_value());
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) {
    sink.report(file, entry, field, "bad_value", "expected a finite number, got " + quote(text));
    return false;
  }
  out = v;
  return true;
}

struct ListedId {
  std::string id;
  int line;
};

std::vector<ListedId> read_id_list(const fs::path& file) {
  const std::string text = read_file(file);
  std::vector<ListedId> ids;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    // ImageSets/Main/<class>_<split>.txt lines carry a second column; the id is the first token.
    std::istringstream tokens(line);
    std::string id;
    if (tokens >> id) ids.push_back({id, number});
  }
  return ids;
}

// The split lists of a dataset: ImageSets/Main/<split>.txt, not the per-class <class>_<split>.txt.
std::vector<fs::path> split_lists(const fs::path& root) {
  std::vector<fs::path> lists;
  std::error_code ec;
  const fs::path dir = root / "ImageSets" / "Main";
  if (!fs::is_directory(dir, ec)) return lists;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".txt" &&
        e.path().stem().string().find('_') == std::string::npos)
      lists.push_back(e.path());
  std::sort(lists.begin(), lists.end());
  return lists;
}

// Reading every annotation leniently (data check without --split) checks every split list too: an id
// with no annotation would otherwise only surface when someone reads that split.
void check_split_lists(const fs::path& root, const std::set<std::string>& annotated, detail::IssueSink& sink) {
  for (const fs::path& list : split_lists(root)) {
    std::vector<ListedId> ids;
    try {
      ids = read_id_list(list);
    } catch (const IoError& e) {
      sink.report(list.string(), "", "", "unreadable_file", e.what());
      continue;
    }
    std::set<std::string> seen;
    for (const ListedId& l : ids) {
      const std::string entry = "line " + std::to_string(l.line);
      if (!seen.insert(l.id).second)
        sink.report(list.string(), entry, "", "duplicate_id", "image id " + quote(l.id) + " listed more than once");
      else if (!annotated.count(l.id))
        sink.report(list.string(), entry, "", "missing_file",
                    "image id " + quote(l.id) + " has no annotation (Annotations/" + l.id + ".xml not found)");
    }
  }
}

std::string find_image_file(const fs::path& root, const std::string& id, const std::string& filename_tag) {
  static const char* kExtensions[] = {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG", ".bmp"};
  std::error_code ec;
  for (const char* ext : kExtensions) {
    const std::string candidate = "JPEGImages/" + id + ext;
    if (fs::exists(root / candidate, ec)) return candidate;
  }
  if (!filename_tag.empty() && fs::exists(root / "JPEGImages" / filename_tag, ec)) return "JPEGImages/" + filename_tag;
  return "JPEGImages/" + id + ".jpg";
}

// Reads and parses an annotation file; false (reported) when there is no XML document to read.
bool load_annotation_xml(const fs::path& xml_path, const std::string& file, detail::IssueSink& sink,
                         pugi::xml_document& doc) {
  std::error_code ec;
  if (!fs::exists(xml_path, ec)) {
    sink.report(file, "", "", "missing_file", "annotation file not found (listed in the split)");
    return false;
  }
  std::string bytes;
  try {
    bytes = read_file(xml_path);
  } catch (const IoError& e) {
    if (!sink.lenient()) throw;
    sink.report(file, "", "", "unreadable_file", e.what());
    return false;
  }
  if (trim(bytes).empty()) {
    sink.report(file, "", "", "parse", "file is empty");
    return false;
  }
  const pugi::xml_parse_result parsed = doc.load_buffer(bytes.data(), bytes.size());
  if (!parsed) {
    const size_t at = static_cast<size_t>(std::max<std::ptrdiff_t>(parsed.offset, 0));
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < bytes.size(); ++i) {
      column = bytes[i] == '\n' ? 1 : column + 1;
      line += bytes[i] == '\n';
    }
    sink.report(file, "byte " + std::to_string(at), "", "parse",
                std::string("malformed XML (line ") + std::to_string(line) + ", column " + std::to_string(column) +
                    "): " + parsed.description());
    return false;
  }
  return true;
}

bool parse_size_tag(const pugi::xml_node& ann, const std::string& file, detail::IssueSink& sink, double& w, double& h) {
  pugi::xml_node size = ann.child("size");
  if (!size) {
    sink.report(file, "", "size", "missing_field", "missing <size> (width and height are required)");
    return false;
  }
  if (!parse_number(size, "width", file, "", "size/width", sink, w) ||
      !parse_number(size, "height", file, "", "size/height", sink, h))
    return false;
  if (w <= 0 || h <= 0 || w != std::floor(w) || h != std::floor(h) || w > kMaxSide || h > kMaxSide) {
    const bool bad_w = w <= 0 || w != std::floor(w) || w > kMaxSide;
    sink.report(file, "", bad_w ? "size/width" : "size/height", "bad_value",
                "image size must be positive integers of at most " + format_number(kMaxSide) + ", got " +
                    format_number(w) + "x" + format_number(h));
    return false;
  }
  return true;
}

// False when the object is left out: a field is missing or bad (reported), or clipping left no box.
bool parse_object(const pugi::xml_node& obj, const std::string& file, const std::string& entry, int index,
                  const ImageRecord& rec, bool clip_boxes, detail::IssueSink& sink, RawObject& raw) {
  raw.name = trim(obj.child("name").child_value());
  if (raw.name.empty()) {
    sink.report(file, entry, "name", "missing_field", "missing or empty class name");
    return false;
  }
  if (!is_valid_utf8(raw.name)) {
    sink.report(file, entry, "name", "bad_value", "class name is not valid UTF-8");
    return false;
  }
  if (pugi::xml_node d = obj.child("difficult")) {
    const std::string t = trim(d.child_value());
    if (t != "0" && t != "1" && !t.empty()) {
      sink.report(file, entry, "difficult", "bad_value", "expected 0 or 1, got " + quote(t));
      return false;
    }
    raw.object.difficult = t == "1";
  }
  pugi::xml_node bb = obj.child("bndbox");
  if (!bb) {
    sink.report(file, entry, "bndbox", "missing_field", "missing <bndbox>");
    return false;
  }
  double xmin, ymin, xmax, ymax;
  if (!parse_number(bb, "xmin", file, entry, "bndbox/xmin", sink, xmin) ||
      !parse_number(bb, "ymin", file, entry, "bndbox/ymin", sink, ymin) ||
      !parse_number(bb, "xmax", file, entry, "bndbox/xmax", sink, xmax) ||
      !parse_number(bb, "ymax", file, entry, "bndbox/ymax", sink, ymax))
    return false;
  Box& b = raw.object.box;
  b = Box{xmin - 1, ymin - 1, xmax, ymax};
  raw.object.id = index;
  if (xmax < xmin || ymax < ymin) {
    sink.report(file, entry, xmax < xmin ? "bndbox/xmax" : "bndbox/ymax", "box_degenerate",
                "box has xmax < xmin or ymax < ymin (" + format_number(xmin) + "," + format_number(ymin) + "," +
                    format_number(xmax) + "," + format_number(ymax) + ")");
  } else if (!b.inside(rec.width, rec.height)) {
    if (clip_boxes) {
      const double w = rec.width, h = rec.height;
      b.x1 = std::clamp(b.x1, 0.0, w);
      b.x2 = std::clamp(b.x2, 0.0, w);
      b.y1 = std::clamp(b.y1, 0.0, h);
      b.y2 = std::clamp(b.y2, 0.0, h);
      raw.object.area = -2;  // marks "clipped" until the merge counts it
      if (b.degenerate()) return false;
    } else {
      sink.report(file, entry, "bndbox", "box_outside",
                  "box (" + format_number(xmin) + "," + format_number(ymin) + "," + format_number(xmax) + "," +
                      format_number(ymax) + ") is outside the " + std::to_string(rec.width) + "x" +
                      std::to_string(rec.height) + " image (VOC indices run 1..width)");
    }
  }
  return true;
}

void parse_annotation(const fs::path& root, const std::string& id, const ReadOptions& options, ParsedFile& out) {
  const fs::path xml_path = root / "Annotations" / (id + ".xml");
  const std::string file = xml_path.string();
  detail::IssueSink sink(options.issues ? &out.issues : nullptr);
  try {
    pugi::xml_document doc;
    if (!load_annotation_xml(xml_path, file, sink, doc)) {
      out.skipped = true;
      return;
    }
    pugi::xml_node ann = doc.child("annotation");
    if (!ann) {
      sink.report(file, "", "annotation", "missing_field", "no <annotation> root element");
      out.skipped = true;
      return;
    }
    ImageRecord& rec = out.record;
    rec.name = id;
    const std::string filename_tag = trim(ann.child("filename").child_value());
    if (!is_valid_utf8(filename_tag) || !is_valid_utf8(id)) {
      sink.report(file, "", "filename", "bad_value", "not valid UTF-8");
      out.skipped = true;
      return;
    }
    rec.file = find_image_file(root, id, filename_tag);
    double w = 0, h = 0;
    if (!parse_size_tag(ann, file, sink, w, h)) {
      out.skipped = true;
      return;
    }
    rec.width = static_cast<int>(w);
    rec.height = static_cast<int>(h);
    int index = 0;
    for (pugi::xml_node obj : ann.children("object")) {
      ++index;
      const std::string entry = "object " + std::to_string(index);
      RawObject raw;
      if (parse_object(obj, file, entry, index, rec, options.clip_boxes, sink, raw))
        out.objects.push_back(std::move(raw));
    }
  } catch (...) {
    out.error = std::current_exception();
  }
}

struct IdList {
  std::vector<std::string> ids;
  std::vector<int> lines;  // of each id in the split list; 0 when read from Annotations/
  fs::path file;           // the split list; empty when reading every annotation
};

IdList list_ids(const fs::path& root, const std::string& split, detail::IssueSink& sink) {
  std::error_code ec;
  IdList out;
  if (!split.empty()) {
    out.file = root / "ImageSets" / "Main" / (split + ".txt");
    if (!fs::exists(out.file, ec)) {
      std::string available;
      for (const fs::path& l : split_lists(root)) available += (available.empty() ? "" : ", ") + l.stem().string();
      throw IoError(out.file.string() + ": split " + quote(split) + " not found" +
                    (available.empty() ? "" : " (available: " + available + ")"));
    }
    for (ListedId& l : read_id_list(out.file)) {
      out.ids.push_back(std::move(l.id));
      out.lines.push_back(l.line);
    }
  } else {
    for (const auto& e : fs::directory_iterator(root / "Annotations"))
      if (e.path().extension() == ".xml") out.ids.push_back(e.path().stem().string());
    std::sort(out.ids.begin(), out.ids.end());
    out.lines.assign(out.ids.size(), 0);
    if (sink.lenient()) check_split_lists(root, std::set<std::string>(out.ids.begin(), out.ids.end()), sink);
  }
  return out;
}

// Class list: from a file when one is given or present, else the names met, in byte order. Returns the
// file the names were to come from, for messages.
fs::path read_voc_classes(const fs::path& root, const ReadOptions& options, const std::vector<ParsedFile>& parsed,
                          detail::IssueSink& sink, Dataset& ds) {
  std::error_code ec;
  fs::path classes_file = options.classes_file;
  if (classes_file.empty() && fs::exists(root / "classes.txt", ec)) classes_file = root / "classes.txt";
  bool from_file = !classes_file.empty();
  if (from_file) {
    try {
      ds.classes = read_class_names(classes_file);
    } catch (const FormatError& e) {
      sink.report(e);  // lenient: carry on with the names met, so the annotations still get checked
      from_file = false;
    } catch (const IoError& e) {
      if (!sink.lenient()) throw;
      sink.report(classes_file.string(), "", "", "unreadable_file", e.what());
      from_file = false;
    }
  }
  if (!from_file) {
    std::set<std::string> names;
    for (const auto& p : parsed)
      for (const auto& o : p.objects) names.insert(o.name);
    ds.classes.assign(names.begin(), names.end());
  }
  return classes_file;
}

void merge_parsed(const fs::path& root, const IdList& listed, const fs::path& classes_file,
                  std::vector<ParsedFile>& parsed, const ReadOptions& options, detail::IssueSink& sink, Dataset& ds) {
  const std::vector<std::string>& ids = listed.ids;
  std::map<std::string, int> class_index;
  for (size_t k = 0; k < ds.classes.size(); ++k) class_index[ds.classes[k]] = static_cast<int>(k);

  std::set<std::string> seen_ids;
  ds.images.reserve(ids.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    ParsedFile& p = parsed[i];
    if (p.error) std::rethrow_exception(p.error);
    if (options.issues) options.issues->insert(options.issues->end(), p.issues.begin(), p.issues.end());
    if (!seen_ids.insert(ids[i]).second) {
      sink.report(listed.file.string(), "line " + std::to_string(listed.lines[i]), "", "duplicate_id",
                  "image id " + quote(ids[i]) + " listed more than once");
      continue;
    }
    if (p.skipped) continue;
    ImageRecord rec = std::move(p.record);
    int index = 0;
    for (auto& raw : p.objects) {
      ++index;
      auto it = class_index.find(raw.name);
      if (it == class_index.end()) {
        sink.report((root / "Annotations" / (ids[i] + ".xml")).string(), "object " + std::to_string(raw.object.id),
                    "name", "unknown_class", "class " + quote(raw.name) + " is not in " + classes_file.string());
        continue;
      }
      raw.object.label = it->second;
      if (raw.object.area == -2) {
        ++ds.clipped_boxes;
        raw.object.area = -1;
      }
      rec.objects.push_back(raw.object);
    }
    ds.images.push_back(std::move(rec));
  }
}

}  // namespace

Dataset read_voc(const fs::path& root, const ReadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw IoError(root.string() + ": VOC dataset directory not found");
  if (!fs::is_directory(root / "Annotations", ec))
    throw IoError(root.string() + ": not a VOC dataset (no Annotations/ directory)");
  Dataset ds;
  ds.source = root.string();
  ds.image_root = root;
  ds.split = options.split;

  detail::IssueSink sink(options.issues);
  const IdList listed = list_ids(root, options.split, sink);
  const std::vector<std::string>& ids = listed.ids;

  std::vector<ParsedFile> parsed(ids.size());
  tbb::parallel_for(size_t(0), ids.size(), [&](size_t i) { parse_annotation(root, ids[i], options, parsed[i]); });

  const fs::path classes_file = read_voc_classes(root, options, parsed, sink, ds);
  merge_parsed(root, listed, classes_file, parsed, options, sink, ds);
  assign_image_ids(ds, options.issues);  // ids from names, never positions (image_ids.h)
  return ds;
}

}  // namespace cvtk::data

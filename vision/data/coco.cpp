// COCO instances JSON. bbox [x, y, w, h] becomes [x, y, x + w, y + h]; category ids (1-based, gappy)
// become 0-based labels in ascending id order, and Dataset::category_ids keeps the map for writing.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/issue_sink.h"
#include "vision/data/json_fields.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

// Float noise in writers (x + w printed as 640.0000001) is not an out-of-image box.
constexpr double kOutsideTolerance = 1e-3;
// Image sides are ints inside cvtk; no real image comes near (the pixel limit, image_size.h, is far lower).
constexpr int64_t kMaxSide = 1 << 30;

fs::path guess_image_root(const fs::path& json_file, const std::string& first_file_name) {
  const fs::path dir = json_file.has_parent_path() ? json_file.parent_path() : fs::path(".");
  std::error_code ec;
  for (const fs::path& candidate :
       {dir, dir / "images", dir / "JPEGImages", dir.parent_path() / "images", dir / "val2017", dir / "train2017"})
    if (!first_file_name.empty() && fs::exists(candidate / first_file_name, ec)) return candidate;
  return dir;
}

std::string stem_name(const std::string& file_name) {
  fs::path p(file_name);
  return (p.parent_path() / p.stem()).generic_string();
}

// COCO file names are relative to an image folder; the VOC and YOLO layouts keep theirs in a
// top-level JPEGImages/ or images/[<split>/] folder, which is layout, not part of the name.
std::string coco_file_name(const ImageRecord& rec, const std::string& split) {
  for (const std::string& prefix :
       {std::string("JPEGImages/"), "images/" + split + (split.empty() ? "" : "/"), std::string("images/")})
    if (rec.file.rfind(prefix, 0) == 0) return rec.file.substr(prefix.size());
  return rec.file;
}

// Categories, in ascending id order. False when the file has no categories array.
bool read_categories(simdjson::dom::object root, const std::string& file, detail::IssueSink& sink, Dataset& ds,
                     std::unordered_map<int64_t, int>& label_of) {
  simdjson::dom::array cats;
  if (root.at_key("categories").get_array().get(cats)) {
    sink.report(file, "", "categories", "missing_field", "missing or not an array");
    return false;
  }
  std::map<int64_t, std::string> by_id;
  std::set<std::string> cat_names;
  size_t index = 0;
  for (simdjson::dom::element c : cats) {
    detail::JsonEntry e{file, "categories", index++, sink};
    simdjson::dom::object o;
    if (c.get_object().get(o)) {
      e.fail("", "bad_value", "expected an object");
      continue;
    }
    int64_t id;
    std::string name;
    if (!detail::get_int(e, o, "id", id) || !detail::get_string(e, o, "name", name)) continue;
    if (!is_valid_utf8(name)) {
      e.fail("name", "bad_value", "not valid UTF-8");
      continue;
    }
    if (by_id.count(id)) {
      e.fail("id", "duplicate_id", "category id " + std::to_string(id) + " appears twice");
      continue;
    }
    if (!cat_names.insert(name).second) {
      e.fail("name", "duplicate_id", "category name " + quote(name) + " appears twice");
      continue;
    }
    by_id[id] = name;
  }
  for (const auto& [id, name] : by_id) {
    label_of[id] = static_cast<int>(ds.classes.size());
    ds.classes.push_back(name);
    ds.category_ids.push_back(id);
  }
  return true;
}

// One images[] entry's own fields; ids and names unique across entries are the caller's.
bool read_image_entry(const detail::JsonEntry& e, simdjson::dom::object o, ImageRecord& rec) {
  int64_t w, h;
  if (!detail::get_int(e, o, "id", rec.id) || !detail::get_string(e, o, "file_name", rec.file) ||
      !detail::get_int(e, o, "width", w) || !detail::get_int(e, o, "height", h))
    return false;
  if (w <= 0 || h <= 0 || w > kMaxSide || h > kMaxSide) {
    const bool bad_w = w <= 0 || w > kMaxSide;
    return e.fail(bad_w ? "width" : "height", "bad_value",
                  "image size must be a positive integer of at most " + std::to_string(kMaxSide) + ", got " +
                      std::to_string(bad_w ? w : h));
  }
  if (!is_valid_utf8(rec.file)) return e.fail("file_name", "bad_value", "not valid UTF-8");
  if (rec.file.empty()) return e.fail("file_name", "bad_value", "empty file name");
  rec.width = static_cast<int>(w);
  rec.height = static_cast<int>(h);
  rec.name = stem_name(rec.file);
  return true;
}

// False when the file has no images array.
bool read_images(simdjson::dom::object root, const std::string& file, detail::IssueSink& sink, Dataset& ds,
                 std::unordered_map<int64_t, size_t>& image_index) {
  simdjson::dom::array images;
  if (root.at_key("images").get_array().get(images)) {
    sink.report(file, "", "images", "missing_field", "missing or not an array");
    return false;
  }
  std::set<std::string> names;
  ds.images.reserve(images.size());
  size_t index = 0;
  for (simdjson::dom::element im : images) {
    detail::JsonEntry e{file, "images", index++, sink};
    simdjson::dom::object o;
    if (im.get_object().get(o)) {
      e.fail("", "bad_value", "expected an object");
      continue;
    }
    ImageRecord rec;
    if (!read_image_entry(e, o, rec)) continue;
    if (image_index.count(rec.id)) {
      e.fail("id", "duplicate_id", "image id " + std::to_string(rec.id) + " appears twice");
      continue;
    }
    if (!names.insert(rec.name).second) {
      e.fail("file_name", "duplicate_id", "file name " + quote(rec.file) + " appears twice");
      continue;
    }
    image_index[rec.id] = ds.images.size();
    ds.images.push_back(std::move(rec));
  }
  return true;
}

struct AnnotationFields {
  int64_t id = 0, image_id = 0, category_id = 0, crowd = 0, difficult = 0;
  double xywh[4];
  double area = -1;
};

// One annotations[] entry's own fields; the images and categories it refers to are the caller's.
bool read_annotation_fields(const detail::JsonEntry& e, simdjson::dom::object o, AnnotationFields& f) {
  if (!detail::get_int(e, o, "id", f.id) || !detail::get_int(e, o, "image_id", f.image_id) ||
      !detail::get_int(e, o, "category_id", f.category_id) || !detail::get_xywh(e, o, "bbox", f.xywh) ||
      !detail::get_number(e, o, "area", f.area, false) || !detail::get_int(e, o, "iscrowd", f.crowd, false) ||
      !detail::get_int(e, o, "difficult", f.difficult, false))  // written by cvtk for VOC sources
    return false;
  if (f.crowd != 0 && f.crowd != 1)
    return e.fail("iscrowd", "bad_value", "expected 0 or 1, got " + std::to_string(f.crowd));
  if (f.area < 0 && f.area != -1) return e.fail("area", "bad_value", "negative area");
  return true;
}

void clip_or_report_outside(const detail::JsonEntry& e, const double xywh[4], const ImageRecord& rec, bool clip_boxes,
                            Box& box, size_t& clipped_boxes) {
  const bool outside = box.x1 < -kOutsideTolerance || box.y1 < -kOutsideTolerance ||
                       box.x2 > rec.width + kOutsideTolerance || box.y2 > rec.height + kOutsideTolerance;
  if (!outside) return;
  if (clip_boxes) {
    box.x1 = std::clamp(box.x1, 0.0, double(rec.width));
    box.x2 = std::clamp(box.x2, 0.0, double(rec.width));
    box.y1 = std::clamp(box.y1, 0.0, double(rec.height));
    box.y2 = std::clamp(box.y2, 0.0, double(rec.height));
    ++clipped_boxes;
  } else {
    e.fail("bbox", "box_outside",
           "box [" + format_number(xywh[0]) + ", " + format_number(xywh[1]) + ", " + format_number(xywh[2]) + ", " +
               format_number(xywh[3]) + "] reaches outside the " + std::to_string(rec.width) + "x" +
               std::to_string(rec.height) + " image " + std::to_string(rec.id));
  }
}

// Annotations (absent in image-info files: images without objects).
void read_annotations(simdjson::dom::object root, const std::string& file, const ReadOptions& options,
                      detail::IssueSink& sink, const std::unordered_map<int64_t, int>& label_of,
                      const std::unordered_map<int64_t, size_t>& image_index, Dataset& ds) {
  simdjson::dom::element anns_el;
  if (root.at_key("annotations").get(anns_el)) return;
  simdjson::dom::array anns;
  if (anns_el.get_array().get(anns)) {
    sink.report(file, "", "annotations", "bad_value",
                std::string("expected an array, got ") + detail::json_type_name(anns_el.type()));
    return;
  }
  std::unordered_map<int64_t, size_t> seen_ann;
  seen_ann.reserve(anns.size());
  size_t index = 0;
  for (simdjson::dom::element a : anns) {
    detail::JsonEntry e{file, "annotations", index, sink};
    ++index;
    simdjson::dom::object o;
    if (a.get_object().get(o)) {
      e.fail("", "bad_value", "expected an object");
      continue;
    }
    AnnotationFields f;
    if (!read_annotation_fields(e, o, f)) continue;
    auto im = image_index.find(f.image_id);
    if (im == image_index.end()) {
      e.fail("image_id", "unknown_image", "image id " + std::to_string(f.image_id) + " is not in images");
      continue;
    }
    auto cat = label_of.find(f.category_id);
    if (cat == label_of.end()) {
      e.fail("category_id", "unknown_class", "category id " + std::to_string(f.category_id) + " is not in categories");
      continue;
    }
    if (!seen_ann.emplace(f.id, index).second) {
      e.fail("id", "duplicate_id", "annotation id " + std::to_string(f.id) + " appears twice");
      continue;
    }
    ImageRecord& rec = ds.images[im->second];
    Object obj;
    obj.id = f.id;
    obj.label = cat->second;
    obj.crowd = f.crowd == 1;
    obj.difficult = f.difficult == 1;
    obj.area = f.area;
    obj.box = Box{f.xywh[0], f.xywh[1], f.xywh[0] + f.xywh[2], f.xywh[1] + f.xywh[3]};
    clip_or_report_outside(e, f.xywh, rec, options.clip_boxes, obj.box, ds.clipped_boxes);
    rec.objects.push_back(obj);
  }
}

}  // namespace

Dataset read_coco(const fs::path& json_file, const ReadOptions& options) {
  const std::string file = json_file.string();
  Dataset ds;
  ds.source = file;
  detail::IssueSink sink(options.issues);
  auto finish = [&]() -> Dataset {
    ds.image_root = !options.image_root.empty()
                        ? options.image_root
                        : guess_image_root(json_file, ds.images.empty() ? std::string() : ds.images.front().file);
    return std::move(ds);
  };
  const simdjson::padded_string bytes = detail::load_json_bytes(json_file);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  try {
    doc = detail::parse_json_file(parser, bytes, file);
  } catch (const FormatError& e) {
    sink.report(e);  // lenient: one problem for the whole file
    return finish();
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root)) {
    sink.report(file, "", "", "bad_value",
                std::string("expected a JSON object with images, annotations and categories, got ") +
                    detail::json_type_name(doc.type()));
    return finish();
  }
  std::unordered_map<int64_t, int> label_of;
  if (!read_categories(root, file, sink, ds, label_of)) return finish();
  std::unordered_map<int64_t, size_t> image_index;
  if (!read_images(root, file, sink, ds, image_index)) return finish();
  read_annotations(root, file, options, sink, label_of, image_index, ds);
  return finish();
}

void write_coco(const Dataset& ds, const fs::path& json_file) {
  nlohmann::ordered_json j;
  j["info"] = {{"description", "written by cvtk"}};
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  nlohmann::ordered_json anns = nlohmann::ordered_json::array();
  nlohmann::ordered_json cats = nlohmann::ordered_json::array();
  for (size_t k = 0; k < ds.classes.size(); ++k)
    cats.push_back({{"id", ds.category_id(static_cast<int>(k))}, {"name", ds.classes[k]}, {"supercategory", ""}});
  int64_t next_ann = 1;
  std::set<int64_t> used_ann;
  for (const auto& rec : ds.images)
    for (const auto& o : rec.objects)
      if (o.id > 0) used_ann.insert(o.id);
  const bool keep_ids = used_ann.size() == ds.object_count();
  for (const ImageRecord& rec : ds.images) {
    images.push_back(
        {{"id", rec.id}, {"file_name", coco_file_name(rec, ds.split)}, {"width", rec.width}, {"height", rec.height}});
    for (const Object& o : rec.objects) {
      const double w = o.box.width(), h = o.box.height();
      anns.push_back({{"id", keep_ids ? o.id : next_ann},
                      {"image_id", rec.id},
                      {"category_id", ds.category_id(o.label)},
                      {"bbox", {o.box.x1, o.box.y1, w, h}},
                      {"area", o.area >= 0 ? o.area : w * h},
                      {"iscrowd", o.crowd ? 1 : 0}});
      if (o.difficult) anns.back()["difficult"] = 1;
      ++next_ann;
    }
  }
  j["images"] = std::move(images);
  j["annotations"] = std::move(anns);
  j["categories"] = std::move(cats);
  write_file_atomic(json_file, j.dump(1) + "\n");
}

}  // namespace cvtk::data

// Writing the PASCAL VOC layout (voc.cpp reads it): Annotations/<id>.xml, JPEGImages/<id>.<ext>,
// ImageSets/Main/<split>.txt and classes.txt, staged and moved into place whole. Boxes go back to VOC's
// 1-based inclusive indices: xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2.
#include <algorithm>
#include <set>
#include <sstream>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/output_dir.h"
#include "vision/data/voc_xml.h"

namespace fs = std::filesystem;

namespace cvtk::data {

namespace {

std::string voc_name(const std::string& name) {
  // A VOC id is a file stem: sub-directories of COCO file names are flattened.
  std::string out = name;
  std::replace(out.begin(), out.end(), '/', '_');
  std::replace(out.begin(), out.end(), '\\', '_');
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string voc_annotation_xml(const Dataset& ds, const ImageRecord& rec, const std::string& filename) {
  std::ostringstream x;
  x << "<annotation>\n  <folder>JPEGImages</folder>\n  <filename>" << xml_escape(filename) << "</filename>\n"
    << "  <size>\n    <width>" << rec.width << "</width>\n    <height>" << rec.height
    << "</height>\n    <depth>3</depth>\n  </size>\n";
  for (const Object& o : rec.objects) {
    x << "  <object>\n    <name>" << xml_escape(ds.classes.at(o.label)) << "</name>\n    <difficult>"
      << (o.difficult ? 1 : 0) << "</difficult>\n    <bndbox>\n"
      << "      <xmin>" << format_number(o.box.x1 + 1) << "</xmin>\n"
      << "      <ymin>" << format_number(o.box.y1 + 1) << "</ymin>\n"
      << "      <xmax>" << format_number(o.box.x2) << "</xmax>\n"
      << "      <ymax>" << format_number(o.box.y2) << "</ymax>\n    </bndbox>\n  </object>\n";
  }
  x << "</annotation>\n";
  return x.str();
}

void write_voc(const Dataset& ds, const fs::path& root, const WriteOptions& options) {
  StagedOutput out(root, /*replace=*/false);
  const fs::path stage = out.staging();
  fs::create_directories(stage / "Annotations");
  fs::create_directories(stage / "ImageSets" / "Main");
  fs::create_directories(stage / "JPEGImages");
  std::set<std::string> names;
  std::string id_list;
  for (const ImageRecord& rec : ds.images) {
    const std::string id = voc_name(rec.name);
    if (!names.insert(id).second)
      throw FormatError(ds.source, "image '" + rec.name + "'", "name",
                        "two images map to the same VOC id '" + id + "'");
    const fs::path src = ds.image_root / rec.file;
    const std::string ext =
        fs::path(rec.file).extension().string().empty() ? ".jpg" : fs::path(rec.file).extension().string();
    if (options.copy_images) {
      std::error_code ec;
      if (!fs::exists(src, ec)) throw IoError(src.string() + ": image file not found (needed to copy it)");
      fs::copy_file(src, stage / "JPEGImages" / (id + ext), ec);
      if (ec) throw IoError(src.string() + ": cannot copy: " + ec.message());
    }
    write_file_atomic(stage / "Annotations" / (id + ".xml"), voc_annotation_xml(ds, rec, id + ext));
    id_list += id + "\n";
  }
  const std::string split = !options.split.empty() ? options.split : (!ds.split.empty() ? ds.split : "all");
  write_file_atomic(stage / "ImageSets" / "Main" / (split + ".txt"), id_list);
  std::string classes;
  for (const auto& c : ds.classes) classes += c + "\n";
  write_file_atomic(stage / "classes.txt", classes);
  out.commit();
}

}  // namespace cvtk::data

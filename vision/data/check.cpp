#include "vision/data/check.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/issue_sink.h"
#include "vision/data/stats.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

// CheckOptions::decoder when none is given: the container and size checks every cvtk decoder makes,
// then OpenCV.
ImageSize decode_with_opencv(const fs::path& file) {
  const std::string bytes = read_file(file);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::string problem = image_bytes_problem(data, bytes.size());
  if (!problem.empty()) throw FormatError(file.string(), "", "", problem, "unreadable_image");
  if (const auto size = read_image_size(data, bytes.size())) check_image_pixels(file.string(), *size);
  cv::Mat image;
  try {
    image = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data())),
                         cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw FormatError(file.string(), "", "", "cannot decode image (OpenCV: " + e.err + ")", "unreadable_image");
  }
  if (image.empty())
    throw FormatError(file.string(), "", "", "cannot decode image (corrupt or unsupported format)", "unreadable_image");
  return ImageSize{image.cols, image.rows};
}

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp";
}

// The splits to check one by one when none was asked for: YOLO's images/<split>/ (and the flat
// images/ when it holds images), a COCO directory's annotations/instances_<split>.json. Empty: check
// the dataset as a whole (VOC, a COCO file, a flat YOLO directory).
std::vector<std::string> splits_to_check(const fs::path& path, Format format) {
  std::error_code ec;
  if (format == Format::kCoco && fs::is_directory(path, ec)) {
    std::vector<std::string> splits = list_splits(path);
    return splits.size() > 1 ? splits : std::vector<std::string>{};
  }
  if (format != Format::kYolo) return {};
  std::vector<std::string> splits = list_splits(path);
  if (splits.empty()) return {};
  for (const auto& e : fs::directory_iterator(path / "images", ec))
    if (e.is_regular_file() && has_image_extension(e.path())) {
      splits.insert(splits.begin(), "");
      break;
    }
  return splits;
}

std::string size_text(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// Every image of one dataset read: its file is there, readable, within the pixel limit and of the
// size the annotation states (decoded with --decode, else from the header).
std::vector<Issue> check_images(const Dataset& ds, const CheckOptions& options) {
  const ImageDecoder decode = options.decoder ? options.decoder : ImageDecoder(decode_with_opencv);
  std::vector<std::vector<Issue>> found(ds.images.size());
  tbb::parallel_for(size_t(0), ds.images.size(), [&](size_t i) {
    const ImageRecord& rec = ds.images[i];
    const fs::path file = ds.image_root / rec.file;
    const std::string entry = "image " + quote(rec.name);
    std::vector<Issue>& out = found[i];
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      out.push_back(detail::make_issue(file.string(), entry, "", "missing_image", "image file not found"));
      return;
    }
    ImageSize size;
    try {
      size = options.decode ? decode(file) : checked_image_size(file);
    } catch (const FormatError& e) {
      Issue issue = detail::issue_from(e);
      if (issue.entry.empty()) issue.entry = entry;
      out.push_back(std::move(issue));
      return;
    } catch (const std::exception& e) {  // IoError: unreadable; anything else a decoder raises
      out.push_back(detail::make_issue(file.string(), entry, "", "unreadable_image", e.what()));
      return;
    }
    if (size.width != rec.width || size.height != rec.height)
      out.push_back(detail::make_issue(file.string(), entry, "size", "size_mismatch",
                                       "the annotation says " + size_text(rec.width, rec.height) +
                                           " but the image is " + size_text(size.width, size.height)));
  });
  std::vector<Issue> issues;
  for (auto& v : found) issues.insert(issues.end(), v.begin(), v.end());
  return issues;
}

// Reads one split (or the whole dataset) leniently and adds what it finds to the report.
void check_one(const fs::path& path, const std::string& split, const CheckOptions& options, CheckReport& report) {
  ReadOptions read = options.read;
  read.split = split;
  std::vector<Issue> issues;
  read.issues = &issues;
  Dataset ds;
  try {
    ds = read_dataset(path, read);
  } catch (const FormatError& e) {  // a reader that could not go on: the problem is still one to list
    issues.push_back(detail::issue_from(e));
  }
  for (const Issue& issue : check_images(ds, options)) issues.push_back(issue);

  // Counts, by class name so splits with different class lists add up.
  std::vector<size_t> index(ds.classes.size());
  for (size_t k = 0; k < ds.classes.size(); ++k) {
    auto at = std::find(report.classes.begin(), report.classes.end(), ds.classes[k]);
    index[k] = static_cast<size_t>(at - report.classes.begin());
    if (at == report.classes.end()) {
      report.classes.push_back(ds.classes[k]);
      report.objects_per_class.push_back(0);
      report.images_per_class.push_back(0);
    }
  }
  std::set<int64_t> ids;
  for (const ImageRecord& rec : ds.images) {
    if (!ids.insert(rec.id).second)
      issues.push_back(detail::make_issue(ds.source, "image " + quote(rec.name), "id", "duplicate_id",
                                          "image id " + std::to_string(rec.id) + " used twice"));
    if (rec.objects.empty()) ++report.empty_images;
    std::vector<bool> has(ds.classes.size(), false);
    for (const Object& o : rec.objects) {
      ++report.objects;
      ++report.objects_per_class[index[o.label]];
      has[o.label] = true;
      report.difficult += o.difficult;
      report.crowd += o.crowd;
    }
    for (size_t k = 0; k < has.size(); ++k) report.images_per_class[index[k]] += has[k];
  }
  report.images += ds.images.size();
  report.issues.insert(report.issues.end(), issues.begin(), issues.end());
}

std::string no_images_hint(const fs::path& path, Format format) {
  switch (format) {
    case Format::kVoc:
      return "no annotations in " + (path / "Annotations").string();
    case Format::kYolo:
      return "no image files in " + (path / "images").string() + " or its split directories";
    default:
      return "the annotation file lists no images";
  }
}

}  // namespace

CheckReport check_dataset(const fs::path& path, const CheckOptions& options) {
  CheckReport report;
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  const Format format = options.read.format == Format::kAuto ? detect_format(path) : options.read.format;
  report.format = format_name(format);
  report.source = path.string();
  if (!options.read.split.empty()) {
    report.splits = {options.read.split};
    check_one(path, options.read.split, options, report);
  } else if (const std::vector<std::string> splits = splits_to_check(path, format); !splits.empty()) {
    report.splits = splits;
    for (const std::string& split : splits) {
      try {
        check_one(path, split, options, report);
      } catch (const IoError& e) {  // a split found on disk that cannot be read: one problem, go on
        report.issues.push_back(detail::make_issue(path.string(), split.empty() ? "" : "split " + quote(split), "",
                                                   "unreadable_file", e.what()));
      }
    }
  } else {
    check_one(path, "", options, report);
  }
  if (report.images == 0 && report.issues.empty())
    report.issues.push_back(detail::make_issue(path.string(), "", "", "no_images", no_images_hint(path, format)));
  for (const Issue& issue : report.issues) ++report.issues_by_kind[issue.kind];
  return report;
}

void print_check_report(const CheckReport& r, std::ostream& out, size_t max_listed) {
  out << "dataset  " << printable(r.source, 0) << " (" << r.format << ")\n";
  if (!r.splits.empty()) {
    out << "splits  ";
    for (const auto& s : r.splits) out << " " << (s.empty() ? "(top level)" : printable(s));
    out << "\n";
  }
  out << "images   " << r.images << " (" << r.empty_images << " without objects)\n";
  out << "objects  " << r.objects << " (" << r.difficult << " difficult, " << r.crowd << " crowd)\n";
  std::vector<std::string> names;
  for (const auto& c : r.classes) names.push_back(printable(c));
  size_t width = 5;
  for (const auto& c : names) width = std::max(width, c.size());
  out << "\n  " << std::string(width - 5, ' ') << "class   objects   images\n";
  for (size_t k = 0; k < names.size(); ++k) {
    char line[64];
    std::snprintf(line, sizeof line, "%9zu %8zu", r.objects_per_class[k], r.images_per_class[k]);
    out << "  " << std::string(width - names[k].size(), ' ') << names[k] << line << "\n";
  }
  out << "\n";
  if (r.clean()) {
    out << "no problems found\n";
    return;
  }
  out << r.issues.size() << " problem" << (r.issues.size() == 1 ? "" : "s") << " found:";
  for (const auto& [kind, n] : r.issues_by_kind) out << " " << kind << "=" << n;
  out << "\n";
  for (size_t i = 0; i < r.issues.size() && i < max_listed; ++i) {
    const Issue& s = r.issues[i];
    out << "  " << s.kind << ": " << s.file;
    if (!s.entry.empty()) out << ": " << s.entry;
    if (!s.field.empty()) out << ": field '" << s.field << "'";
    out << ": " << s.message << "\n";
  }
  if (r.issues.size() > max_listed)
    out << "  ... and " << r.issues.size() - max_listed << " more (use --all to list every one)\n";
}

}  // namespace cvtk::data

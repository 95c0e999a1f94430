#include "vision/data/check.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "vision/data/image_size.h"

namespace fs = std::filesystem;

namespace cvtk::data {

CheckReport check_dataset(const fs::path& path, const CheckOptions& options) {
  CheckReport report;
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  ReadOptions read = options.read;
  read.issues = &report.issues;
  const Format format = read.format == Format::kAuto ? detect_format(path) : read.format;
  report.format = format_name(format);
  Dataset ds = read_dataset(path, read);
  report.source = ds.source;
  report.images = ds.images.size();
  report.classes = ds.classes;
  report.objects_per_class.assign(ds.classes.size(), 0);
  report.images_per_class.assign(ds.classes.size(), 0);

  // Image files: present, and with --decode readable with the size the annotation states.
  std::vector<std::vector<Issue>> image_issues(ds.images.size());
  tbb::parallel_for(size_t(0), ds.images.size(), [&](size_t i) {
    const ImageRecord& rec = ds.images[i];
    const fs::path file = ds.image_root / rec.file;
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      image_issues[i].push_back({file.string(), "image '" + rec.name + "'", "", "missing_image", "image file not found"});
      return;
    }
    if (options.decode) {
      cv::Mat img = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
      if (img.empty()) {
        image_issues[i].push_back({file.string(), "image '" + rec.name + "'", "", "unreadable_image",
                                   "cannot decode the image (corrupt, truncated or not an image)"});
        return;
      }
      if (img.cols != rec.width || img.rows != rec.height)
        image_issues[i].push_back({file.string(), "image '" + rec.name + "'", "size", "size_mismatch",
                                   "the annotation says " + std::to_string(rec.width) + "x" + std::to_string(rec.height) +
                                       " but the image is " + std::to_string(img.cols) + "x" + std::to_string(img.rows)});
    } else if (auto size = read_image_size(file); !size) {
      image_issues[i].push_back({file.string(), "image '" + rec.name + "'", "", "unreadable_image",
                                 "cannot read the image header (corrupt, truncated or not an image)"});
    } else if (size->width != rec.width || size->height != rec.height) {
      image_issues[i].push_back({file.string(), "image '" + rec.name + "'", "size", "size_mismatch",
                                 "the annotation says " + std::to_string(rec.width) + "x" + std::to_string(rec.height) +
                                     " but the image is " + std::to_string(size->width) + "x" + std::to_string(size->height)});
    }
  });
  for (auto& v : image_issues) report.issues.insert(report.issues.end(), v.begin(), v.end());

  std::set<int64_t> ids;
  for (const ImageRecord& rec : ds.images) {
    if (!ids.insert(rec.id).second)
      report.issues.push_back({ds.source, "image '" + rec.name + "'", "id", "duplicate_id",
                               "image id " + std::to_string(rec.id) + " used twice"});
    if (rec.objects.empty()) ++report.empty_images;
    std::vector<bool> has(ds.classes.size(), false);
    for (const Object& o : rec.objects) {
      ++report.objects;
      ++report.objects_per_class[o.label];
      has[o.label] = true;
      report.difficult += o.difficult;
      report.crowd += o.crowd;
    }
    for (size_t k = 0; k < has.size(); ++k) report.images_per_class[k] += has[k];
  }
  for (const Issue& issue : report.issues) ++report.issues_by_kind[issue.kind];
  return report;
}

void print_check_report(const CheckReport& r, std::ostream& out, size_t max_listed) {
  out << "dataset  " << r.source << " (" << r.format << ")\n";
  out << "images   " << r.images << " (" << r.empty_images << " without objects)\n";
  out << "objects  " << r.objects << " (" << r.difficult << " difficult, " << r.crowd << " crowd)\n";
  size_t width = 5;
  for (const auto& c : r.classes) width = std::max(width, c.size());
  out << "\n  " << std::string(width - 5, ' ') << "class   objects   images\n";
  for (size_t k = 0; k < r.classes.size(); ++k) {
    char line[64];
    std::snprintf(line, sizeof line, "%9zu %8zu", r.objects_per_class[k], r.images_per_class[k]);
    out << "  " << std::string(width - r.classes[k].size(), ' ') << r.classes[k] << line << "\n";
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
  if (r.issues.size() > max_listed) out << "  ... and " << r.issues.size() - max_listed << " more (use --all to list every one)\n";
}

}  // namespace cvtk::data

#include "detection/predict_sources.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/image_ids.h"
#include "vision/data/image_size.h"

namespace cvtk::detection {

namespace fs = std::filesystem;

namespace {

std::string lower_extension(const fs::path& p) {
  auto e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return e;
}

bool looks_like_dataset(const fs::path& p) {
  try {
    data::detect_format(p);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 6 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Matches `parts[i..]` below `dir` (a real directory), appending files to `out`.
void match_below(const fs::path& dir, const std::vector<std::string>& parts, size_t i, std::vector<fs::path>& out) {
  std::error_code ec;
  if (i == parts.size()) return;
  const bool last = i + 1 == parts.size();
  if (parts[i] == "**") {
    match_below(dir, parts, i + 1, out);  // zero directories
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec) && it->path().filename().string()[0] != '.') match_below(it->path(), parts, i, out);
    return;
  }
  if (!has_wildcard(parts[i])) {
    const fs::path next = dir / parts[i];
    if (last ? fs::is_regular_file(next, ec) : fs::is_directory(next, ec)) {
      if (last)
        out.push_back(next);
      else
        match_below(next, parts, i + 1, out);
    }
    return;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (fnmatch(parts[i].c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
    if (last && it->is_regular_file(ec)) out.push_back(it->path());
    if (!last && it->is_directory(ec)) match_below(it->path(), parts, i + 1, out);
  }
}

}  // namespace

bool has_wildcard(const std::string& text) { return text.find_first_of("*?[") != std::string::npos; }

bool is_image_file(const fs::path& p) {
  static const std::set<std::string> ext = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
  return ext.count(lower_extension(p)) > 0;
}

bool is_video_file(const fs::path& p) {
  static const std::set<std::string> ext = {".mp4", ".avi",  ".mov", ".mkv", ".webm", ".wmv",  ".flv", ".m4v",
                                            ".mpg", ".mpeg", ".3gp", ".ts",  ".mts",  ".m2ts", ".ogv"};
  return ext.count(lower_extension(p)) > 0;
}

std::vector<fs::path> expand_glob(const std::string& pattern, fs::path* base) {
  std::vector<std::string> parts;
  for (size_t start = 0; start <= pattern.size();) {
    size_t end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    if (end > start) parts.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  // The literal directories before the first wildcard are the base the matches are named from.
  fs::path root = !pattern.empty() && pattern[0] == '/' ? fs::path("/") : fs::path();
  size_t first = 0;
  while (first + 1 < parts.size() && !has_wildcard(parts[first])) root /= parts[first++];
  if (root.empty()) root = ".";
  if (base) *base = root;
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_directory(root, ec)) match_below(root, parts, first, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());  // "**/**" reaches a file twice
  return out;
}

PredictSource resolve_source(const std::string& text) {
  PredictSource s;
  s.text = text;
  s.path = text;
  std::error_code ec;
  if (fs::exists(s.path, ec)) {
    if (looks_like_dataset(s.path)) {
      s.kind = SourceKind::kDataset;
    } else if (fs::is_directory(s.path, ec)) {
      // Lexically, not fs::relative: that resolves symbolic links, naming a linked image by its target.
      for (fs::recursive_directory_iterator it(s.path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code entry;  // a dangling link is no image, and no reason to stop listing
        if (it->is_regular_file(entry) && is_image_file(it->path()))
          s.files.push_back(it->path().lexically_relative(s.path));
      }
      // A listing that stops midway (a subdirectory that cannot be read) would drop images unnoticed.
      if (ec) throw data::IoError(s.path.string() + ": cannot list the directory (" + ec.message() + ")");
      std::sort(s.files.begin(), s.files.end());
    } else if (is_video_file(s.path)) {
      s.kind = SourceKind::kVideo;
    } else {
      s.files = {s.path.filename()};
      s.path = s.path.parent_path();
    }
    return s;
  }
  if (all_digits(text)) {
    s.kind = SourceKind::kCamera;
    s.camera = std::stoi(text);
    return s;
  }
  if (!has_wildcard(text)) throw data::IoError(text + ": no such file or directory");
  s.glob = true;
  const auto matches = expand_glob(text, &s.path);
  if (matches.empty()) throw data::IoError("--source " + text + ": no file matches the pattern");
  for (const auto& m : matches) {
    if (is_image_file(m))
      s.files.push_back(m.lexically_relative(s.path));
    else
      ++s.ignored;
  }
  if (s.files.empty())
    throw data::IoError("--source " + text + ": " + std::to_string(matches.size()) +
                        (matches.size() == 1 ? " file matches" : " files match") +
                        " the pattern, none of them an image (.jpg, .png, .bmp, .tif, .webp)");
  return s;
}

data::Dataset images_dataset(const PredictSource& source, const std::vector<std::string>& classes) {
  data::Dataset ds;
  ds.classes = classes;
  ds.source = source.text;
  ds.image_root = source.path;
  for (const auto& f : source.files) {
    data::ImageRecord r;
    r.file = f.string();
    r.name = data::loose_image_name(f);
    if (auto size = data::read_image_size(ds.image_root / f)) {
      r.width = size->width;
      r.height = size->height;
    }
    ds.images.push_back(r);
  }
  data::assign_image_ids(ds);  // ids from names, never positions (vision/data/image_ids.h)
  return ds;
}

}  // namespace cvtk::detection

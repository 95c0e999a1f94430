#include "vision/data/output_dir.h"

#include <unistd.h>

#include "vision/data/errors.h"

namespace cvtk::data {

namespace fs = std::filesystem;

namespace {

// "runs/train/" names runs/train; "." and ".." are named by their absolute path, so numbering has a name to extend.
fs::path normalised(const fs::path& p) {
  fs::path n = p.lexically_normal();
  if (n.has_parent_path() && !n.has_filename()) n = n.parent_path();
  if (n.empty() || n.filename() == "." || n.filename() == "..") n = fs::absolute(n).lexically_normal();
  if (n.has_parent_path() && !n.has_filename()) n = n.parent_path();
  return n;
}

// Missing or an empty directory; anything else that is not a directory is an error.
bool is_free(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (!fs::exists(st)) return true;
  if (!fs::is_directory(st)) throw IoError(p.string() + ": exists and is not a directory");
  return fs::is_empty(p, ec) && !ec;
}

}  // namespace

std::string OutputDir::describe() const {
  if (renumbered) return path.string() + " (" + requested.string() + " is not empty)";
  if (existing) return path.string() + " (not empty)";
  return path.string();
}

OutputDir choose_output_dir(const fs::path& requested, bool exist_ok) {
  OutputDir d;
  d.requested = requested;
  const fs::path base = normalised(requested);
  if (is_free(base)) {
    d.path = base;
    return d;
  }
  if (exist_ok) {
    d.path = base;
    d.existing = true;
    return d;
  }
  for (int n = 2; n < 100000; ++n) {
    fs::path candidate = base;
    candidate += std::to_string(n);
    if (is_free(candidate)) {
      d.path = candidate;
      d.renumbered = true;
      return d;
    }
  }
  throw IoError(base.string() + ": no free numbered directory beside it");
}

namespace {

// Why dir could not be created: the ancestor in the way (a file where a directory must be), else ec.
std::string why_not_created(const fs::path& dir, const std::error_code& ec) {
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    std::error_code e2;
    const auto st = fs::status(p, e2);
    if (fs::exists(st) && !fs::is_directory(st)) return p.string() + " is not a directory";
    if (p == p.parent_path()) break;
  }
  return ec ? ec.message() : std::string("unknown reason");
}

// The outermost of dir and its ancestors that does not exist; empty when dir exists.
fs::path topmost_missing(const fs::path& dir) {
  fs::path top;
  std::error_code ec;
  for (fs::path p = dir; !p.empty() && !fs::exists(fs::symlink_status(p, ec)); p = p.parent_path()) {
    top = p;
    if (p == p.parent_path()) break;
  }
  return top;
}

}  // namespace

fs::path create_directories_noting_first(const fs::path& dir) {
  const fs::path first = topmost_missing(dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    const std::string why = why_not_created(dir, ec);
    remove_empty_up_to(dir, first);
    throw IoError(dir.string() + ": cannot create directory: " + why);
  }
  return first;
}

void remove_empty_up_to(fs::path dir, const fs::path& top) {
  if (top.empty()) return;
  std::error_code ec;
  while (!dir.empty()) {
    if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec) || !fs::remove(dir, ec)) return;
    if (dir == top) return;
    dir = dir.parent_path();
  }
}

StagedOutput::StagedOutput(fs::path final_path, bool replace) : final_(normalised(final_path)), replace_(replace) {
  const bool free = is_free(final_);  // a file in the way is an error either way
  if (!replace_ && !free) throw IoError(final_.string() + ": already exists and is not an empty directory");
  parent_ = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  created_ = topmost_missing(parent_);
  std::error_code ec;
  staging_ = parent_ / ("." + final_.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec || !fs::is_directory(staging_)) {
    const std::string why = why_not_created(staging_, ec);
    remove_empty_up_to(parent_, created_);
    throw IoError(final_.string() + ": cannot create directory: " + why);
  }
}

StagedOutput::~StagedOutput() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
  remove_empty_up_to(parent_, created_);
}

void StagedOutput::commit() {
  std::error_code ec;
  fs::path aside;
  if (fs::exists(final_, ec)) {
    if (fs::is_empty(final_, ec)) {
      fs::remove(final_, ec);
    } else {
      if (!replace_) throw IoError(final_.string() + ": already exists and is not an empty directory");
      aside = final_.parent_path() / ("." + final_.filename().string() + ".old-" + std::to_string(::getpid()));
      fs::remove_all(aside, ec);
      fs::rename(final_, aside, ec);
      if (ec) throw IoError(final_.string() + ": cannot move the earlier output aside: " + ec.message());
    }
  }
  fs::rename(staging_, final_, ec);
  if (ec) {
    const std::string why = ec.message();
    if (!aside.empty()) fs::rename(aside, final_, ec);
    throw IoError(final_.string() + ": cannot move the finished directory into place: " + why);
  }
  committed_ = true;
  if (!aside.empty()) fs::remove_all(aside, ec);
}

}  // namespace cvtk::data

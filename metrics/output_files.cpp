#include "metrics/output_files.h"

#include <unistd.h>

#include <cstdio>
#include <system_error>

#include "vision/data/errors.h"

namespace fs = std::filesystem;

namespace cvtk::metrics {
namespace {

fs::path sibling(const fs::path& file, const char* tag) {
  return file.string() + "." + tag + "-" + std::to_string(::getpid());
}

bool write_bytes(const fs::path& file, const std::string& bytes) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// What commit() has done so far, undone in reverse by the destructor unless finished.
struct Transaction {
  std::vector<fs::path> created_dirs;  // outermost first
  std::vector<fs::path> temporaries;
  std::vector<fs::path> placed;                        // targets renamed into place
  std::vector<std::pair<fs::path, fs::path>> backups;  // (target, saved copy of the file it replaced)
  bool finished = false;

  ~Transaction() {
    std::error_code ec;
    if (finished) {
      for (const auto& [target, backup] : backups) fs::remove(backup, ec);
      return;
    }
    for (const fs::path& t : temporaries) fs::remove(t, ec);
    for (const fs::path& p : placed) fs::remove(p, ec);
    for (const auto& [target, backup] : backups) fs::rename(backup, target, ec);
    for (auto it = created_dirs.rbegin(); it != created_dirs.rend(); ++it) fs::remove(*it, ec);  // only if empty
  }

  void make_parent(const fs::path& file) {
    const fs::path parent = file.parent_path();
    if (parent.empty()) return;
    std::error_code ec;
    if (fs::is_directory(parent, ec)) return;
    // Record each level that does not exist yet, outermost first, so rollback removes just those.
    std::vector<fs::path> missing;
    for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) missing.insert(missing.begin(), p);
    for (const fs::path& p : missing) {
      if (!fs::create_directory(p, ec) && !fs::is_directory(p, ec))
        throw data::IoError(file.string() + ": cannot create the directory " + p.string() +
                            (ec ? ": " + ec.message() : std::string()));
      created_dirs.push_back(p);
    }
    if (!fs::is_directory(parent, ec))
      throw data::IoError(file.string() + ": cannot write it: " + parent.string() + " is not a directory");
  }
};

}  // namespace

void OutputFiles::add(const fs::path& file, std::string bytes) {
  for (auto& [f, b] : files_)
    if (f == file) {
      b = std::move(bytes);
      return;
    }
  files_.emplace_back(file, std::move(bytes));
}

std::vector<OutputFiles::Placed> OutputFiles::commit() {
  std::error_code ec;
  std::vector<Placed> result;
  for (const auto& [file, bytes] : files_) {
    const bool exists = fs::exists(fs::symlink_status(file, ec));
    if (exists && !fs::is_regular_file(fs::symlink_status(file, ec)))
      throw data::IoError(file.string() + ": exists and is not a regular file; not replacing it");
    result.push_back({file, exists});
  }
  Transaction t;
  // Every byte on disk before anything is moved into place.
  for (const auto& [file, bytes] : files_) {
    t.make_parent(file);
    const fs::path tmp = sibling(file, "tmp");
    t.temporaries.push_back(tmp);
    if (!write_bytes(tmp, bytes)) throw data::IoError(file.string() + ": cannot write (disk full or no permission?)");
  }
  for (size_t i = 0; i < files_.size(); ++i) {
    const fs::path& file = files_[i].first;
    if (result[i].replaced) {
      const fs::path backup = sibling(file, "old");
      fs::remove(backup, ec);
      fs::create_hard_link(file, backup, ec);
      if (ec) fs::copy_file(file, backup, fs::copy_options::overwrite_existing, ec);
      if (ec) throw data::IoError(file.string() + ": cannot keep a copy of the file it replaces: " + ec.message());
      t.backups.emplace_back(file, backup);
    }
    fs::rename(t.temporaries[i], file, ec);
    if (ec) throw data::IoError(file.string() + ": cannot move the new file into place: " + ec.message());
    t.placed.push_back(file);
    // A replaced file is restored from its backup, not removed.
    if (result[i].replaced) t.placed.pop_back();
  }
  t.temporaries.clear();
  t.finished = true;
  return result;
}

}  // namespace cvtk::metrics

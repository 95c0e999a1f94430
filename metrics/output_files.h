#pragma once
// Several output files that appear together or not at all (`cvtk eval --json --csv --plots --html`,
// and `--save-dets` with `--weights`).
//
// add() only records bytes already rendered in memory. commit() first writes every file to a
// temporary file beside its target (creating missing directories), then moves them into place one
// by one, keeping a hard link (or copy) of any file it replaces. If any step fails, everything done
// so far is undone: the replaced files come back, new files and the directories commit() created
// are removed, the temporaries deleted; then it throws IoError naming the file. A target that exists
// and is not a regular file is refused before anything is written.
#include <filesystem>
#include <string>
#include <vector>

namespace cvtk::metrics {

class OutputFiles {
 public:
  struct Placed {
    std::filesystem::path file;
    bool replaced = false;  // an existing file was overwritten
  };

  // Records a file to write; a second add() for the same path replaces the first.
  void add(const std::filesystem::path& file, std::string bytes);
  bool empty() const { return files_.empty(); }

  // Writes everything or nothing (see above); returns the files in the order they were added.
  std::vector<Placed> commit();

 private:
  std::vector<std::pair<std::filesystem::path, std::string>> files_;
};

}  // namespace cvtk::metrics

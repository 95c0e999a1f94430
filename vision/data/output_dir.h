#pragma once
// Where a command writes a new run (`cvtk train --out`, `cvtk predict --out`), so that outputs never
// overwrite an earlier run silently.
//
// The rule: a requested directory that does not exist, or exists and is empty, is used as is. One
// that exists and holds anything is left alone and the first free numbered sibling is used instead
// (runs/train -> runs/train2, runs/train3, ...; free = missing or empty), unless exist_ok, in which
// case the requested directory itself is used (what the command then does with the earlier contents
// is the command's business: train writes into it, predict replaces its whole output).
//
// StagedOutput builds a directory beside its final place and moves it there at the end, so a
// command's outputs appear complete or not at all, also when they replace an earlier run's.
#include <filesystem>
#include <string>

namespace cvtk::data {

struct OutputDir {
  std::filesystem::path path;       // where to write
  std::filesystem::path requested;  // what the user asked for
  bool renumbered = false;          // requested held an earlier run; path is a numbered sibling
  bool existing = false;            // path exists and holds an earlier run (exist_ok only)
  // For the command's header: "runs/train2 (runs/train is not empty)", "runs/train (not empty)", "runs/train".
  std::string describe() const;
};

// Chooses the directory by the rule above; creates nothing. A requested path that exists and is not a
// directory is an IoError naming it.
OutputDir choose_output_dir(const std::filesystem::path& requested, bool exist_ok);

// Creates dir and its missing parents; returns the topmost directory it created (empty when dir
// existed), so a command that fails can remove what it made. IoError naming dir, and the ancestor that
// is not a directory when that is the reason.
std::filesystem::path create_directories_noting_first(const std::filesystem::path& dir);

// Removes dir and then its parents while they are empty directories, stopping after `top` (nothing
// when top is empty): undoes create_directories_noting_first.
void remove_empty_up_to(std::filesystem::path dir, const std::filesystem::path& top);

// A directory built at a temporary sibling (".<name>.tmp-<pid>") and moved into place by commit().
// With replace, an existing directory at the final path is replaced whole on commit (the earlier
// one is moved aside first and put back if the move fails); without it, the final path must be
// missing or an empty directory. Destroying it without commit() removes the staging directory and
// the parent directories it had to create. Errors name the final path, never the staging one.
class StagedOutput {
 public:
  StagedOutput(std::filesystem::path final_path, bool replace);
  ~StagedOutput();
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  const std::filesystem::path& staging() const { return staging_; }
  const std::filesystem::path& final_path() const { return final_; }
  void commit();  // IoError naming the final path when it cannot be moved into place

 private:
  std::filesystem::path final_, staging_, parent_, created_;
  bool replace_, committed_ = false;
};

}  // namespace cvtk::data

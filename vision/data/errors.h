#pragma once
// Typed errors at file boundaries. Every message names the file, the entry and the field, so a user
// can open the file and go straight to the problem.
#include <stdexcept>
#include <string>

namespace cvtk::data {

class FormatError : public std::runtime_error {
 public:
  // file: the path as the user gave it; entry: which record ("annotations[12]", "object 3", "line 7");
  // field: the key or tag ("bbox", "bndbox/xmin"); may be empty when the whole file is at fault.
  FormatError(std::string file, std::string entry, std::string field, const std::string& problem);

  const std::string& file() const { return file_; }
  const std::string& entry() const { return entry_; }
  const std::string& field() const { return field_; }

 private:
  std::string file_, entry_, field_;
};

// A file or directory that does not exist or cannot be read or written.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cvtk::data

#pragma once
// Where a reader sends a problem: thrown as a FormatError (strict reading) or recorded as an Issue
// (lenient reading, ReadOptions::issues). Readers call report() and, when it returns, carry on.
// Either way the text is made one printable line (errors.h: one_line_message), so a checker's list
// has one line per problem whatever the files hold.
#include <mutex>
#include <string>
#include <vector>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"

namespace cvtk::data::detail {

// An Issue with every text field made one printable line.
inline Issue make_issue(const std::string& file, const std::string& entry, const std::string& field,
                        const std::string& kind, const std::string& message) {
  return {one_line_message(file), one_line_message(entry), one_line_message(field), kind, one_line_message(message)};
}

// The Issue a FormatError stands for (its texts are already one line).
inline Issue issue_from(const FormatError& e) { return {e.file(), e.entry(), e.field(), e.kind(), e.problem()}; }

class IssueSink {
 public:
  explicit IssueSink(std::vector<Issue>* issues) : issues_(issues) {}
  bool lenient() const { return issues_ != nullptr; }

  // Throws when strict; records and returns when lenient.
  void report(const std::string& file, const std::string& entry, const std::string& field, const std::string& kind,
              const std::string& message) {
    if (!issues_) throw FormatError(file, entry, field, message, kind);
    Issue issue = make_issue(file, entry, field, kind, message);
    std::lock_guard<std::mutex> lock(mutex_);
    issues_->push_back(std::move(issue));
  }
  // A FormatError raised below a reader (a classes file, an image header): rethrown when strict.
  void report(const FormatError& e) {
    if (!issues_) throw e;
    std::lock_guard<std::mutex> lock(mutex_);
    issues_->push_back(issue_from(e));
  }

 private:
  std::vector<Issue>* issues_;
  std::mutex mutex_;
};

}  // namespace cvtk::data::detail

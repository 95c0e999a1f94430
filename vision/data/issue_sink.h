#pragma once
// Where a reader sends a problem: thrown as a FormatError (strict reading) or recorded as an Issue
// (lenient reading, ReadOptions::issues). Readers call report() and, when it returns, carry on.
#include <mutex>
#include <string>
#include <vector>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"

namespace cvtk::data::detail {

class IssueSink {
 public:
  explicit IssueSink(std::vector<Issue>* issues) : issues_(issues) {}
  bool lenient() const { return issues_ != nullptr; }

  // Throws when strict; records and returns when lenient.
  void report(const std::string& file, const std::string& entry, const std::string& field,
              const std::string& kind, const std::string& message) {
    if (!issues_) throw FormatError(file, entry, field, message);
    std::lock_guard<std::mutex> lock(mutex_);
    issues_->push_back({file, entry, field, kind, message});
  }

 private:
  std::vector<Issue>* issues_;
  std::mutex mutex_;
};

}  // namespace cvtk::data::detail

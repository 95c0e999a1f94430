#include "vision/data/errors.h"

namespace cvtk::data {
namespace {
std::string compose(const std::string& file, const std::string& entry, const std::string& field,
                    const std::string& problem) {
  std::string out = file;
  if (!entry.empty()) out += ": " + entry;
  if (!field.empty()) out += ": field '" + field + "'";
  out += ": " + problem;
  return out;
}
}  // namespace

FormatError::FormatError(std::string file, std::string entry, std::string field, const std::string& problem)
    : std::runtime_error(compose(file, entry, field, problem)),
      file_(std::move(file)),
      entry_(std::move(entry)),
      field_(std::move(field)) {}

}  // namespace cvtk::data

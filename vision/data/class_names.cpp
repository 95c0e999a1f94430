#include <set>
#include <sstream>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace cvtk::data {

std::vector<std::string> read_class_names(const std::filesystem::path& file) {
  const std::string text = read_file(file);
  std::vector<std::string> names;
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    std::string name = line.substr(b, e - b + 1);
    if (!is_valid_utf8(name))
      throw FormatError(file.string(), "line " + std::to_string(number), "", "class name is not valid UTF-8");
    if (!seen.insert(name).second)
      throw FormatError(file.string(), "line " + std::to_string(number), "",
                        "duplicate class name '" + name + "'");
    names.push_back(std::move(name));
  }
  if (names.empty()) throw FormatError(file.string(), "", "", "no class names in the file");
  return names;
}

}  // namespace cvtk::data

#include <algorithm>
#include <map>
#include <sstream>

#include "vision/data/dataset_io.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"

namespace cvtk::data {

std::vector<std::string> read_class_names(const std::filesystem::path& file) {
  const std::string text = read_file(file);
  std::vector<std::string> names;
  std::map<std::string, int> lines;  // where each name first appears
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
    if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; }))
      throw FormatError(file.string(), "line " + std::to_string(number), "",
                        "class name " + quote(name) + " holds control characters");
    if (!lines.emplace(name, number).second)
      throw FormatError(
          file.string(), "line " + std::to_string(number), "",
          "duplicate class name " + quote(name) + " (line " + std::to_string(lines[name]) + " has it too)",
          "duplicate_id");
    names.push_back(std::move(name));
  }
  if (names.empty()) throw FormatError(file.string(), "", "", "no class names in the file", "missing_field");
  return names;
}

}  // namespace cvtk::data

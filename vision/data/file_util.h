#pragma once
// Small file helpers shared by the readers and writers: whole-file reads with clear errors, atomic
// writes (temporary file, then rename, so a failure never leaves a partial file), and number
// formatting that round-trips exactly.
#include <filesystem>
#include <string>

namespace cvtk::data {

// The whole file as bytes; IoError naming the file when it is missing or unreadable.
std::string read_file(const std::filesystem::path& file);

// Writes bytes to <file>.tmp-<pid> in the same directory, then renames it over file.
void write_file_atomic(const std::filesystem::path& file, const std::string& bytes);

// Shortest decimal text that parses back to exactly the same double ("12", "12.5", "0.1").
std::string format_number(double value);

// True when the text is valid UTF-8 (file names from annotation files are checked with it).
bool is_valid_utf8(const std::string& text);

}  // namespace cvtk::data

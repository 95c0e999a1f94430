#include "vision/data/file_util.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "vision/data/errors.h"

namespace fs = std::filesystem;

namespace cvtk::data {

std::string read_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw IoError(file.string() + ": file not found");
  if (fs::is_directory(file, ec)) throw IoError(file.string() + ": is a directory, expected a file");
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) throw IoError(file.string() + ": cannot open for reading");
  std::string bytes;
  const auto size = fs::file_size(file, ec);
  if (!ec) bytes.reserve(size);
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) bytes.append(buffer, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw IoError(file.string() + ": read error");
  return bytes;
}

void write_file_atomic(const fs::path& file, const std::string& bytes) {
  std::error_code ec;
  if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".tmp-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw IoError(file.string() + ": cannot open for writing");
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    fs::remove(tmp, ec);
    throw IoError(file.string() + ": write failed (disk full?)");
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError(file.string() + ": cannot rename the temporary file into place");
  }
}

std::string format_number(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

bool is_valid_utf8(const std::string& text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra;
    if (c < 0x80)
      extra = 0;
    else if ((c >> 5) == 0x6)
      extra = 1;
    else if ((c >> 4) == 0xE)
      extra = 2;
    else if ((c >> 3) == 0x1E)
      extra = 3;
    else
      return false;
    if (i + extra >= n && extra > 0) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace cvtk::data

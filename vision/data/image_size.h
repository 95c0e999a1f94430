#pragma once
// Image dimensions read from the file header only (JPEG SOF, PNG IHDR, BMP), without decoding, so
// formats that do not store sizes (YOLO) load fast. Other formats fall back to a full decode.
#include <filesystem>
#include <optional>

namespace cvtk::data {

struct ImageSize {
  int width = 0;
  int height = 0;
};

// nullopt when the file is missing or not a readable image.
std::optional<ImageSize> read_image_size(const std::filesystem::path& file);

}  // namespace cvtk::data

#pragma once
// Reading an image file into the one pixel format cvtk's pipelines use: 8-bit, 3-channel RGB.
//
// Grayscale, 4-channel (alpha dropped) and 16-bit images are converted and the conversion is named in
// DecodeResult::converted, so callers can count it. Missing files throw IoError; files that do not
// decode, or JPEGs without their end-of-image marker (truncated), throw FormatError naming the file.
// The EXIF orientation tag is ignored: pixels are returned as stored, which is what annotation tools
// draw boxes on.
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace cvtk::image {

struct DecodeResult {
  cv::Mat image;          // CV_8UC3, RGB
  std::string converted;  // "" when the file already was 8-bit colour, else e.g. "grayscale -> RGB"
};

DecodeResult decode_image(const std::filesystem::path& file);

// The same rules for bytes already in memory; `name` is used in error messages.
DecodeResult decode_image_bytes(const std::vector<unsigned char>& bytes, const std::string& name);

}  // namespace cvtk::image

#pragma once
// Reading an image file into the one pixel format cvtk's pipelines use: 8-bit, 3-channel RGB.
//
// Grayscale, 4-channel (alpha dropped) and 16-bit images are converted and the conversion is named in
// DecodeResult::converted, so callers can count it. Missing or unreadable files throw IoError. A
// FormatError naming the file (kind "unreadable_image") for anything that is not a whole, intact
// image: no bytes, a JPEG whose data ends before its end-of-image marker, a JPEG libjpeg finds damaged
// (bad codes, a premature end, data between segments: decoders fill such holes with grey and only warn),
// a PNG cut short or failing its checksums, data no decoder reads. A FormatError ("image_too_large")
// naming both dimensions when the header declares more pixels than data::max_image_pixels(), checked
// before anything is allocated. Nothing is printed on stderr: the libraries' warnings become these errors.
// The EXIF orientation tag is ignored: pixels are returned as stored, which is what annotation tools
// draw boxes on.
//
// JPEGs are decoded with libjpeg(-turbo) directly when the build found it (the same library and
// settings OpenCV uses, so the same pixels, without OpenCV's BGR output and the conversion back);
// other formats, and JPEGs libjpeg does not turn into RGB itself (CMYK), go through OpenCV.
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace cvtk::image {

struct DecodeResult {
  cv::Mat image;          // CV_8UC3, RGB
  std::string converted;  // "" when the file already was 8-bit colour, else e.g. "grayscale -> RGB"
  cv::Size source_size;   // the stored image's size: image's size, unless decoded resized
};

DecodeResult decode_image(const std::filesystem::path& file);

// The same rules for bytes already in memory; `name` is used in error messages.
DecodeResult decode_image_bytes(const std::vector<unsigned char>& bytes, const std::string& name);

// The same rules, and the image stretched to exactly `size`: what a bilinear resize with half-pixel
// centres (cv::INTER_LINEAR) of decode_image's result gives, up to rounding. For a YCbCr or grayscale
// JPEG whose chroma planes tile the image exactly, the resize runs on the decoded planes before colour
// conversion, after a 1/8, 1/4 or 1/2 scaled IDCT when the stored size allows (jpeg.h); that skips the
// full-size chroma upsampling and colour conversion. Anything else is decoded in full and resized
// with cv::resize. The pixel grid is the same either way: pixel (x, y) of the result is centred on
// stored position ((x + 0.5) W / width, (y + 0.5) H / height) for a W x H source (source_size).
DecodeResult decode_image_resized(const std::filesystem::path& file, cv::Size size);

}  // namespace cvtk::image

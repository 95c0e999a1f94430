#pragma once
// Image dimensions read from the file header only (JPEG SOF, PNG IHDR, BMP, TIFF, WebP), without
// decoding, so formats that do not store sizes (YOLO) load fast; other formats fall back to a full
// decode. Also what every decoder checks before it decodes: the declared size against a process-wide
// pixel limit, and the container's own structure (a JPEG's end marker, a PNG's chunks), which the
// decoding libraries would otherwise let through or complain about on stderr.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace cvtk::data {

struct ImageSize {
  int width = 0;
  int height = 0;
};

// From the file's first bytes in memory. nullopt when they are none of the formats above, end inside
// the header, or declare a zero or negative size.
std::optional<ImageSize> read_image_size(const unsigned char* data, size_t size);

// nullopt when the file is missing or not a readable image.
std::optional<ImageSize> read_image_size(const std::filesystem::path& file);

// The largest image, in pixels (width x height), that cvtk decodes: 2^28 = 268,435,456 by default,
// 16384 x 16384. Decoders allocate width x height x 3 bytes before reading a pixel (805 MB at the
// default) and the loader converts to float (3.2 GB), so a header declaring 65000 x 65000 (12.7 GB)
// must fail before decoding, not take the machine down. 2^28 is four times a 64-megapixel camera
// frame and far above any detection training image, and below OpenCV's own guard (2^30), so it is
// always this limit that answers, with a message naming the file.
constexpr uint64_t kDefaultMaxImagePixels = uint64_t(1) << 28;

// Process-wide, thread-safe; 0 removes the limit. Commands set it from --max-pixels.
void set_max_image_pixels(uint64_t pixels);
uint64_t max_image_pixels();

// Throws FormatError (kind "image_too_large") naming the file and both dimensions when
// width x height is above max_image_pixels().
void check_image_pixels(const std::string& file, ImageSize size);

// The header size of a file that is about to be used, with every problem as an exception: IoError
// when it cannot be opened, FormatError naming the file when it is empty or not an image (kind
// "unreadable_image") or above the pixel limit ("image_too_large").
ImageSize checked_image_size(const std::filesystem::path& file);

// Problems in a whole file's bytes that decoders let through or print on stderr: no bytes, a JPEG
// whose data ends before its end-of-image marker (truncated; data appended after the marker is
// fine), a PNG that ends before its IEND chunk or whose chunk checksum is wrong. "" when none is
// found; this is not a full validation (data the decoder cannot decode is for the decoder to find).
std::string image_bytes_problem(const unsigned char* data, size_t size);

}  // namespace cvtk::data

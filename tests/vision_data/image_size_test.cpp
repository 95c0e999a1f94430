// Image headers read without decoding, the pixel limit checked before any decode, and the container
// checks (a JPEG's end marker, a PNG's chunks) that catch truncated and damaged files.
#include "vision/data/image_size.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "tests/common.h"
#include "vision/data/errors.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

namespace {

std::vector<unsigned char> encode(const std::string& ext, int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  cv::randu(m, 0, 255);
  std::vector<unsigned char> bytes;
  if (!cv::imencode(ext, m, bytes)) bytes.clear();
  return bytes;
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// The JPEG with its first frame header patched to declare w x h.
std::vector<unsigned char> with_declared_size(std::vector<unsigned char> jpeg, int w, int h) {
  for (size_t i = 2; i + 8 < jpeg.size(); ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 5] = static_cast<unsigned char>(h >> 8);
      jpeg[i + 6] = static_cast<unsigned char>(h & 0xFF);
      jpeg[i + 7] = static_cast<unsigned char>(w >> 8);
      jpeg[i + 8] = static_cast<unsigned char>(w & 0xFF);
      break;
    }
  return jpeg;
}

// Restores the default limit whatever a test does.
struct LimitGuard {
  ~LimitGuard() { set_max_image_pixels(kDefaultMaxImagePixels); }
};

}  // namespace

TEST(ImageSize, HeadersOfEveryFormatWithoutDecoding) {
  const fs::path dir = cvtk::testing::scratch_dir("image_size_headers");
  for (const char* ext : {".jpg", ".png", ".bmp", ".tiff", ".webp"}) {
    SCOPED_TRACE(ext);
    const auto bytes = encode(ext, 37, 23);
    if (bytes.empty()) {
      ADD_FAILURE() << "OpenCV cannot write " << ext;
      continue;
    }
    const auto in_memory = read_image_size(bytes.data(), bytes.size());
    ASSERT_TRUE(in_memory.has_value());
    EXPECT_EQ(in_memory->width, 37);
    EXPECT_EQ(in_memory->height, 23);
    write_bytes(dir / (std::string("a") + ext), bytes);
    const auto from_file = read_image_size(dir / (std::string("a") + ext));
    ASSERT_TRUE(from_file.has_value());
    EXPECT_EQ(from_file->width, 37);
    EXPECT_EQ(from_file->height, 23);
    // Cut inside the header: no size, never a wrong one.
    EXPECT_FALSE(read_image_size(bytes.data(), 10).has_value());
  }
  const std::string text = "not an image at all";
  EXPECT_FALSE(read_image_size(reinterpret_cast<const unsigned char*>(text.data()), text.size()).has_value());
}

// The defect: a header declaring 65000x65000 made the decoder allocate 12.7 GB. The declared size is
// now checked against a process-wide limit, and the error names the file and both dimensions.
TEST(ImageSize, PixelLimitNamesFileAndBothDimensions) {
  LimitGuard guard;
  EXPECT_EQ(max_image_pixels(), kDefaultMaxImagePixels);
  const fs::path dir = cvtk::testing::scratch_dir("image_size_limit");
  write_bytes(dir / "huge.jpg", with_declared_size(encode(".jpg", 64, 48), 65000, 65000));
  try {
    checked_image_size(dir / "huge.jpg");
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("huge.jpg"), std::string::npos) << what;
    EXPECT_NE(what.find("65000x65000"), std::string::npos) << what;
    EXPECT_NE(what.find("268435456"), std::string::npos) << what;
    EXPECT_EQ(e.kind(), "image_too_large");
  }
  write_bytes(dir / "small.png", encode(".png", 64, 48));
  EXPECT_EQ(checked_image_size(dir / "small.png").width, 64);
  set_max_image_pixels(64 * 48 - 1);
  EXPECT_THROW(checked_image_size(dir / "small.png"), FormatError);
  set_max_image_pixels(0);  // no limit
  EXPECT_EQ(checked_image_size(dir / "huge.jpg").width, 65000);
}

TEST(ImageSize, CheckedSizeNamesEmptyAndNonImages) {
  const fs::path dir = cvtk::testing::scratch_dir("image_size_bad");
  write_bytes(dir / "empty.jpg", {});
  write_bytes(dir / "text.jpg", {'h', 'e', 'l', 'l', 'o'});
  for (const char* f : {"empty.jpg", "text.jpg"}) {
    try {
      checked_image_size(dir / f);
      ADD_FAILURE() << f;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
      EXPECT_EQ(e.kind(), "unreadable_image");
    }
  }
  EXPECT_THROW(checked_image_size(dir / "absent.jpg"), IoError);
  // A PNG under a .jpg name is read by its content.
  write_bytes(dir / "png_named.jpg", encode(".png", 5, 4));
  EXPECT_EQ(checked_image_size(dir / "png_named.jpg").height, 4);
}

TEST(ImageBytes, TruncatedAndDamagedContainersAreNamed) {
  const auto jpg = encode(".jpg", 64, 48), png = encode(".png", 64, 48);
  EXPECT_EQ(image_bytes_problem(jpg.data(), jpg.size()), "");
  EXPECT_EQ(image_bytes_problem(png.data(), png.size()), "");
  auto half = std::vector<unsigned char>(jpg.begin(), jpg.begin() + jpg.size() / 2);
  EXPECT_NE(image_bytes_problem(half.data(), half.size()).find("truncated JPEG"), std::string::npos);
  // Data appended after the end marker (cameras append previews and videos) is no problem.
  auto appended = jpg;
  appended.insert(appended.end(), 5000, 0x42);
  EXPECT_EQ(image_bytes_problem(appended.data(), appended.size()), "");
  half.assign(png.begin(), png.begin() + png.size() / 2);
  EXPECT_NE(image_bytes_problem(half.data(), half.size()).find("truncated PNG"), std::string::npos);
  auto flipped = png;
  flipped[flipped.size() / 2] ^= 0xFF;
  EXPECT_NE(image_bytes_problem(flipped.data(), flipped.size()).find("checksum mismatch in chunk 'IDAT'"),
            std::string::npos);
  EXPECT_EQ(image_bytes_problem(nullptr, 0), "empty image file (0 bytes)");
}

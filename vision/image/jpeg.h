#pragma once
// JPEG decoding through libjpeg(-turbo) directly, behind decode.h. Everything here returns false
// instead of throwing when it cannot do the job (no libjpeg at build time, a colour space it does not
// handle, data it rejects), so the caller falls back to OpenCV, which then applies decode.h's rules
// and names the error. Built without libjpeg (CVTK_HAVE_LIBJPEG undefined), both always return false.
#include <cstddef>
#include <string>

#include <opencv2/core.hpp>

namespace cvtk::image::jpeg {

// Decodes to 8-bit RGB at full size. Only 3-component YCbCr/RGB and 1-component grayscale streams
// (then `converted` names the conversion); CMYK and others return false. Same library, colour
// conversion and chroma upsampling as OpenCV's imdecode, without its BGR detour.
bool decode_rgb(const unsigned char* data, size_t size, cv::Mat& rgb, std::string& converted);

// Decodes straight to `target` (8-bit RGB): a bilinear stretch of the full image with half-pixel
// centres, done on the decoded luma and chroma planes before colour conversion, so neither chroma
// upsampling nor colour conversion runs at the stored size. When the stored size is at least 8/n
// times target in both directions for n = 1, 2 or 4, the planes come out of libjpeg's SIMD scaled
// IDCT at n/8 size first (the smallest such n); 3/8, 5/8, 6/8 and 7/8 are never used: libjpeg-turbo
// runs those IDCTs in plain C, slower than the full-size decode they would replace.
//
// The pixel grid stays exact: every plane is resampled from where its samples sit in the stored image
// (centred chroma siting, as JFIF), and streams whose planes do not tile the image exactly (e.g. an
// odd width with 2x horizontal chroma subsampling) return false. Pixels differ from full decode +
// bilinear resize only by rounding, by the chroma filter (bilinear from the subsampled plane instead
// of libjpeg's triangle upsampling followed by bilinear) and, when n < 8, by the IDCT's own low-pass.
// `source` receives the stored size.
bool decode_resized(const unsigned char* data, size_t size, cv::Size target, cv::Mat& rgb, cv::Size& source,
                    std::string& converted);

}  // namespace cvtk::image::jpeg

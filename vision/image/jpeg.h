#pragma once
// JPEG decoding through libjpeg(-turbo) directly, behind decode.h. Nothing here throws: each call says
// whether it decoded, could not do this job (kUnsupported: no libjpeg at build time, a colour space or
// plane layout it does not handle; the caller falls back to another path), or found the data damaged
// (kCorrupt, with libjpeg's description in `problem`; the caller reports it, since every other path
// would meet the same damage). Damage includes what libjpeg only warns about and then papers over
// with grey or repeated pixels: a premature end of the file, bad Huffman or arithmetic codes, data
// between segments, a broken progression. Warnings about metadata (an unknown JFIF revision, an
// Adobe transform code) are not damage. libjpeg prints nothing, warnings included.
//
// Callers check the declared size against the pixel limit first (vision/data/image_size.h), as
// decode.h does: the output buffer is allocated from the header before any pixel is read. Built
// without libjpeg (CVTK_HAVE_LIBJPEG undefined), every call returns kUnsupported.
#include <cstddef>
#include <string>

#include <opencv2/core.hpp>

namespace cvtk::image::jpeg {

enum class Status { kDecoded, kUnsupported, kCorrupt };

// Decodes to 8-bit RGB at full size. Only 3-component YCbCr/RGB and 1-component grayscale streams
// (then `converted` names the conversion); CMYK and others are kUnsupported. Same library, colour
// conversion and chroma upsampling as OpenCV's imdecode, without its BGR detour.
Status decode_rgb(const unsigned char* data, size_t size, cv::Mat& rgb, std::string& converted, std::string& problem);

// Decodes any stream libjpeg reads (CMYK and YCCK included) in its own output colour space and
// discards the pixels: what the fallback to OpenCV runs first, as OpenCV would print libjpeg's
// warnings on stderr and return the papered-over image.
Status validate(const unsigned char* data, size_t size, std::string& problem);

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
// `source` receives the stored size. Streams it does not handle are kUnsupported.
Status decode_resized(const unsigned char* data, size_t size, cv::Size target, cv::Mat& rgb, cv::Size& source,
                      std::string& converted, std::string& problem);

}  // namespace cvtk::image::jpeg

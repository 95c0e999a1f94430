#pragma once
// Decoded images kept in memory across epochs, up to a byte budget: the loader's answer to datasets
// whose decoding costs more than the rest of the pipeline (a 640x480 JPEG takes ~0.8 ms to decode,
// the whole augmentation ~0.35 ms). An entry is what the decoder returned for one record at one
// decode size (the full image, or the size of a leading stretch the decoder performs), so a cached
// image is exactly the one decoding would give again: results do not depend on the cache.
//
// What is kept: entries in the order they were first decoded until the next one would pass the
// budget; later ones are decoded every time (no eviction, so a large dataset keeps a stable prefix
// cached instead of churning). Failures are not kept: a bad file is read, and reported, every epoch.
// Thread-safe; lookups run in parallel.
#include <cstddef>
#include <map>
#include <optional>
#include <shared_mutex>
#include <tuple>

#include <opencv2/core.hpp>

#include "vision/image/decode.h"

namespace cvtk::augment {

class DecodeCache {
 public:
  explicit DecodeCache(size_t budget_bytes) : budget_(budget_bytes) {}

  bool enabled() const { return budget_ > 0; }
  // A copy of the entry for (record, decode size); decode size empty: the full-size decode. The
  // image is a deep copy the caller may change in place.
  std::optional<image::DecodeResult> find(size_t record, cv::Size decode_size) const;
  // Keeps a copy of `decoded` if it fits in the budget; returns whether it was kept.
  bool insert(size_t record, cv::Size decode_size, const image::DecodeResult& decoded);

  size_t bytes() const;

 private:
  using Key = std::tuple<size_t, int, int>;
  size_t budget_;
  size_t bytes_ = 0;
  std::map<Key, image::DecodeResult> entries_;
  mutable std::shared_mutex mutex_;
};

}  // namespace cvtk::augment

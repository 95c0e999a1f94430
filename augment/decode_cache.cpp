#include "augment/decode_cache.h"

#include <mutex>

namespace cvtk::augment {

std::optional<image::DecodeResult> DecodeCache::find(size_t record, cv::Size decode_size) const {
  if (!enabled()) return std::nullopt;
  std::shared_lock lock(mutex_);
  const auto it = entries_.find({record, decode_size.width, decode_size.height});
  if (it == entries_.end()) return std::nullopt;
  image::DecodeResult copy = it->second;
  copy.image = it->second.image.clone();
  return copy;
}

bool DecodeCache::insert(size_t record, cv::Size decode_size, const image::DecodeResult& decoded) {
  if (!enabled() || decoded.image.empty()) return false;
  const size_t size = decoded.image.total() * decoded.image.elemSize();
  std::unique_lock lock(mutex_);
  const Key key{record, decode_size.width, decode_size.height};
  if (entries_.count(key) || bytes_ + size > budget_) return false;
  image::DecodeResult copy = decoded;
  copy.image = decoded.image.clone();
  entries_.emplace(key, std::move(copy));
  bytes_ += size;
  return true;
}

size_t DecodeCache::bytes() const {
  std::shared_lock lock(mutex_);
  return bytes_;
}

}  // namespace cvtk::augment

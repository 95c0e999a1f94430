#include "vision/data/image_ids.h"

#include <unordered_map>

#include "vision/data/issue_sink.h"

namespace cvtk::data {

int64_t image_id_for_name(std::string_view name) {
  constexpr uint64_t kMask = (uint64_t(1) << 52) - 1;
  bool digits = !name.empty();
  uint64_t value = 0;
  for (char c : name) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kMask) {  // 2^52 or more: not an id below the hashed range
      digits = false;
      break;
    }
  }
  if (digits) return static_cast<int64_t>(value);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64-bit offset basis
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;  // FNV-1a 64-bit prime
  }
  return kHashedImageIdBase + static_cast<int64_t>(h & kMask);
}

std::string loose_image_name(const std::filesystem::path& relative_file) {
  return (relative_file.parent_path() / relative_file.stem()).generic_string();
}

void assign_image_ids(Dataset& ds, std::vector<Issue>* issues) {
  detail::IssueSink sink(issues);
  std::unordered_map<int64_t, size_t> first;  // id -> index of the image that has it
  first.reserve(ds.images.size() * 2);
  std::vector<ImageRecord> kept;
  kept.reserve(ds.images.size());
  for (ImageRecord& rec : ds.images) {
    rec.id = image_id_for_name(rec.name);
    auto [it, inserted] = first.emplace(rec.id, kept.size());
    if (!inserted) {
      const ImageRecord& other = kept[it->second];
      auto label = [](const ImageRecord& r) {
        return "'" + r.name + "'" + (r.file.empty() ? "" : " (" + r.file + ")");
      };
      sink.report(ds.source, "image '" + rec.name + "'", "name", "duplicate_id",
                  "images " + label(other) + " and " + label(rec) + " both get image id " + std::to_string(rec.id) +
                      " (ids are derived from names: a digits-only name is its number); rename one");
      continue;  // lenient: the second image is dropped, the issue says so
    }
    kept.push_back(std::move(rec));
  }
  ds.images = std::move(kept);
  ds.ids_from_names = true;
}

}  // namespace cvtk::data

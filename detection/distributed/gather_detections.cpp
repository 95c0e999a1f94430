#include "detection/distributed/gather_detections.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace cvtk::detection::distributed {

namespace {
constexpr int64_t kFields = 7;  // position, label, score, x1, y1, x2, y2
}

std::vector<data::Detection> gather_detections(ProcessGroup& group, const data::Dataset& full,
                                               const std::vector<size_t>& positions,
                                               const std::vector<data::Detection>& mine) {
  std::unordered_map<int64_t, size_t> position_of;
  for (size_t p : positions) position_of.emplace(full.images[p].id, p);
  const int world = group.size(), rank = group.rank();
  auto counts = torch::zeros({world}, torch::kInt64);
  counts[rank] = int64_t(mine.size());
  group.allreduce_sum(counts);
  const int64_t most = counts.max().item<int64_t>();
  auto table = torch::zeros({world, std::max<int64_t>(most, 1), kFields}, torch::kFloat64);
  double* row = table[rank].data_ptr<double>();
  for (const auto& d : mine) {
    const auto it = position_of.find(d.image_id);
    if (it == position_of.end())
      throw std::logic_error("gather_detections: image id " + std::to_string(d.image_id) + " is not in this shard");
    const double v[kFields] = {double(it->second), double(d.label), d.score, d.box.x1, d.box.y1, d.box.x2, d.box.y2};
    std::copy(v, v + kFields, row);
    row += kFields;
  }
  group.allreduce_sum(table);
  std::vector<std::pair<size_t, data::Detection>> all;
  for (int r = 0; r < world; ++r) {
    const double* t = table[r].data_ptr<double>();
    for (int64_t k = 0; k < counts[r].item<int64_t>(); ++k, t += kFields) {
      data::Detection d;
      const size_t p = size_t(t[0]);
      d.image_id = full.images[p].id;
      d.label = int(t[1]);
      d.score = t[2];
      d.box = {t[3], t[4], t[5], t[6]};
      all.emplace_back(p, d);
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<data::Detection> merged;
  merged.reserve(all.size());
  for (auto& [p, d] : all) merged.push_back(d);
  return merged;
}

}  // namespace cvtk::detection::distributed

#include "detection/distributed/sharded_sampler.h"

#include <stdexcept>
#include <string>

#include "augment/loader.h"

namespace cvtk::detection::distributed {

size_t global_batches(const ShardOptions& o) {
  const size_t global = size_t(o.batch) * size_t(o.world);
  if (o.records < global)
    throw std::invalid_argument("--batch " + std::to_string(o.batch) + " x " + std::to_string(o.world) +
                                " processes = " + std::to_string(global) + " images per step, more than the " +
                                std::to_string(o.records) + " training images");
  return o.records / global;
}

std::vector<size_t> shard_of_epoch(const ShardOptions& o, int epoch) {
  const size_t batches = global_batches(o), b = size_t(o.batch);
  const auto order = augment::epoch_order(o.records, o.seed, epoch, true);
  std::vector<size_t> mine;
  mine.reserve(batches * b);
  for (size_t g = 0; g < batches; ++g) {
    const size_t first = (g * size_t(o.world) + size_t(o.rank)) * b;
    mine.insert(mine.end(), order.begin() + long(first), order.begin() + long(first + b));
  }
  return mine;
}

std::vector<size_t> validation_shard(size_t records, int batch, int rank, int world) {
  std::vector<size_t> mine;
  const size_t b = size_t(batch);
  for (size_t first = size_t(rank) * b; first < records; first += b * size_t(world))
    for (size_t i = first; i < std::min(records, first + b); ++i) mine.push_back(i);
  return mine;
}

}  // namespace cvtk::detection::distributed

#pragma once
// Which training records each rank of a data-parallel run sees in an epoch.
//
// The epoch's permutation is the one a single process uses (augment::epoch_order: seed and epoch
// only). It is cut into global batches of batch x world records; rank r takes the r-th run of `batch`
// records of each. So global batch g holds exactly the records of batch g of one process with batch
// x world (what makes W processes equal one process with the global batch), every record appears
// at most once per epoch, and the result depends on the seed, the epoch and the world size only.
// As in one process, the last incomplete global batch is dropped (drop_last), unless the dataset has
// fewer records than one global batch, which is an error (some rank would have nothing to train on).
// The loader keeps drawing each record's augmentation from (seed, epoch, record) and each batch's
// size from (seed, epoch, batch), so those agree with the single process too.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cvtk::detection::distributed {

struct ShardOptions {
  size_t records = 0;  // dataset size
  int batch = 1;       // per rank
  int rank = 0, world = 1;
  uint64_t seed = 0;
};

// Global batches per epoch (= each rank's batches). std::invalid_argument when records < batch x world.
size_t global_batches(const ShardOptions& options);

// Rank options.rank's records of `epoch`, in its batch order (global_batches x batch of them).
std::vector<size_t> shard_of_epoch(const ShardOptions& options, int epoch);

// Rank `rank`'s share of a validation set of `records` images in batches of `batch` (whole batches
// b with b % world == rank, in order; the last, partial batch belongs to its rank like any other), so
// each batch is the one a single process would run and the outputs are the same.
std::vector<size_t> validation_shard(size_t records, int batch, int rank, int world);

}  // namespace cvtk::detection::distributed

#pragma once
// The parallel data loader: decodes the images of a Dataset, runs a Pipeline on each, and collates
// them into normalised [B,3,H,W] batches with per-image targets, ahead of the consumer.
//
// Threads: one producer thread runs a TBB pipeline in an arena of `threads` threads: images flow one
// at a time through decode + augment + tensor conversion in parallel (straight into their batch's
// tensor), and an in-order stage collates each batch as its last image completes; finished batches
// wait in a queue of at most prefetch_batches. next() blocks until a batch is ready.
//
// Decoding resized: when the pipeline starts with a plain bilinear stretch (Pipeline::leading_stretch:
// `resize()` or `resize(W,H)`, mode=stretch, interp=bilinear) and decode_resized is set, each image is
// decoded straight to that size (image::decode_image_resized: for JPEGs the resize runs on the decoded
// luma/chroma planes, before colour conversion) and the pipeline continues from its second transform.
// Boxes, to_original and every later random draw are exactly those of decoding in full and resizing;
// pixels differ by the decoder's rounding (tests/augment/decode_test.cpp bounds it). Any other leading
// transform (erase, crop, expand, hflip, a letterbox or scale= resize) sees the full decoded image, as
// it must: their results depend on the image size they are given.
//
// Determinism: the order of an epoch is a Fisher-Yates shuffle drawn from Rng(seed, epoch, 0, 2); the
// size of batch b is drawn from Rng(seed, epoch, b, 1); the augmentation of dataset record i in epoch
// e draws only from Rng(seed, e, i). So the same seed gives identical batches for any thread count.
//
// Decoded-image cache (cache_mb > 0): each record's decode is kept in memory until the budget is full
// and reused in later epochs; everything after the decode runs as usual (decode_cache.h).
//
// Bad images: files that are missing or do not decode are skipped, counted and listed in stats (their
// batch is just smaller; a batch with no image left is not emitted). Grayscale, 4-channel and 16-bit
// images are converted and counted. Images without objects are kept as negatives and counted.
//
// Collation: when every image of a batch has the batch size (the pipeline ends with a resize to the
// context size) they are stacked; otherwise each is padded at the right and bottom to the largest
// image with zeros (the mean after normalisation), and to_original is unaffected.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "augment/pipeline.h"
#include "vision/data/annotation.h"

namespace cvtk::augment {

struct Target {
  torch::Tensor boxes;   // [N,4] float32 x1y1x2y2 in batch-image pixels
  torch::Tensor labels;  // [N] int64 (dataset class index)
};

struct Batch {
  torch::Tensor images;  // [B,3,H,W] float32, RGB, normalised (x/255 - mean)/std
  std::vector<Target> targets;
  std::vector<size_t> indices;  // dataset record indices
  std::vector<int64_t> image_ids;
  std::vector<cv::Matx33d> to_original;             // per image, batch-image coords -> original image coords
  std::vector<std::pair<int, int>> original_sizes;  // (width, height)
  int epoch = 0;
  size_t batch_index = 0;
};

struct LoaderOptions {
  int batch_size = 8;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int threads = 0;                 // TBB threads for decode+augment (0 = all cores)
  int prefetch_batches = 4;        // bounded queue depth
  bool decode_resized = true;      // decode straight to a leading resize's size (see above)
  std::vector<int> sizes = {320};  // square output sizes; each batch picks one with Rng(seed, epoch, batch_index)
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
  // Scheduling niceness added to the loader's threads (Linux). Training sets it so the loader only uses
  // cycles the model's threads leave idle: on a machine with as many busy threads as cores, LibTorch's
  // OpenMP threads otherwise wait whole scheduler slices at every barrier for a preempted peer.
  int nice = 0;
  // Keep decoded images in memory across epochs, up to this many MiB (0: decode every time). See
  // decode_cache.h: batches are the same with or without it; only the decode time goes.
  size_t cache_mb = 0;
  // When set, each epoch's record order (indices into the dataset, each at most once) instead of
  // epoch_order's: a distributed run's shard of the epoch (detection/distributed/sharded_sampler.h).
  // Every epoch's order must have the length of epoch 0's, the one batches_per_epoch() counts.
  std::function<std::vector<size_t>(int epoch)> order;
};

// The record order of an epoch when LoaderOptions::order is not set: 0..n-1, Fisher-Yates shuffled with
// Rng(seed, epoch, 0, 2) when shuffle is on.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int epoch, bool shuffle);

// Totals since the loader was made, over every epoch produced (a bad file is counted and listed once
// per epoch it is met in).
struct LoaderStats {
  size_t images = 0, skipped = 0, converted = 0, dropped_objects = 0, empty_images = 0;
  size_t cache_hits = 0;                           // images whose decode came from the cache
  double cache_mb = 0;                             // what the cache holds now
  std::vector<std::string> skipped_files;          // "path: reason"
  double decode_seconds = 0, augment_seconds = 0;  // summed over threads
};

class Loader {
 public:
  Loader(const data::Dataset& dataset, Pipeline pipeline, LoaderOptions options);  // keeps a reference to dataset
  ~Loader();                                                                       // stops worker threads cleanly
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Shuffles with (seed, epoch) and starts producing; batches of a previous epoch still queued are
  // discarded. next() before any start_epoch() starts epoch 0.
  void start_epoch(int epoch);
  // The next batch, or std::nullopt at the end of the epoch. Rethrows a pipeline error.
  std::optional<Batch> next();
  size_t batches_per_epoch() const;
  LoaderStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// [3,H,W] float32: (rgb / 255 - mean) / std per channel. rgb must be CV_8UC3.
torch::Tensor to_tensor(const cv::Mat& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& std);

// Writes the same values into dst, a [3,H,W] float32 buffer with plane stride H*W.
void write_normalised(const cv::Mat& rgb, float* dst, const std::array<float, 3>& mean,
                      const std::array<float, 3>& std);

}  // namespace cvtk::augment

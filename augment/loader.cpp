#include "augment/loader.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <tbb/task_scheduler_observer.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "augment/decode_cache.h"
#include "augment/random.h"
#include "augment/resize.h"
#include "vision/data/errors.h"
#include "vision/image/decode.h"

namespace cvtk::augment {

void write_normalised(const cv::Mat& rgb, float* dst, const std::array<float, 3>& mean,
                      const std::array<float, 3>& std) {
  if (rgb.type() != CV_8UC3) throw std::invalid_argument("to_tensor: expected an 8-bit 3-channel image");
  // Split into the three 8-bit planes, then one scaled conversion per plane straight into dst
  // (both vectorised in OpenCV): (v / 255 - mean) / std = v * a + b.
  const int h = rgb.rows, w = rgb.cols;
  const size_t plane = static_cast<size_t>(h) * w;
  thread_local std::vector<uchar> scratch;
  scratch.resize(3 * plane);
  cv::Mat planes[3] = {cv::Mat(h, w, CV_8U, scratch.data()), cv::Mat(h, w, CV_8U, scratch.data() + plane),
                       cv::Mat(h, w, CV_8U, scratch.data() + 2 * plane)};
  cv::split(rgb, planes);
  for (int c = 0; c < 3; ++c) {
    cv::Mat out(h, w, CV_32F, dst + c * plane);
    planes[c].convertTo(out, CV_32F, 1.0 / (255.0 * std[c]), -static_cast<double>(mean[c]) / std[c]);
  }
}

torch::Tensor to_tensor(const cv::Mat& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  torch::Tensor t = torch::empty({3, rgb.rows, rgb.cols}, torch::kFloat32);
  write_normalised(rgb, t.data_ptr<float>(), mean, std);
  return t;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One image's result inside a chunk.
struct Slot {
  bool ok = false;
  bool direct = false;  // written straight into the batch tensor
  torch::Tensor image;  // when not direct
  Target target;
  cv::Matx33d to_original;
  std::pair<int, int> original_size;
  int64_t image_id = 0;
  size_t index = 0;
  std::string error;
  bool converted = false, empty = false, cache_hit = false;
  int dropped = 0;
  double decode_s = 0, augment_s = 0;
};

// Batch tensors come from here and return here when the last reference to them dies, wherever that
// is. Fresh multi-megabyte allocations would be mmap'ed and page-faulted in for every batch (and
// trimmed again on free); measured, that cost as much as a fifth of the loader's CPU time.
class TensorPool : public std::enable_shared_from_this<TensorPool> {
 public:
  explicit TensorPool(size_t keep) : keep_(keep) {}
  ~TensorPool() {
    for (auto& [bytes, p] : free_) std::free(p);
  }
  torch::Tensor empty(const std::vector<int64_t>& sizes) {
    size_t bytes = sizeof(float);
    for (int64_t s : sizes) bytes *= static_cast<size_t>(s);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < free_.size(); ++i)
        if (free_[i].first == bytes) {
          p = free_[i].second;
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
    }
    if (!p) p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    auto self = shared_from_this();  // the pool outlives the loader while a consumer holds batches
    return torch::from_blob(
        p, sizes, [self, bytes](void* q) { self->give_back(q, bytes); }, torch::kFloat32);
  }

 private:
  void give_back(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (free_.size() < keep_) {
        free_.emplace_back(bytes, p);
        return;
      }
    }
    std::free(p);
  }
  std::mutex mutex_;
  std::vector<std::pair<size_t, void*>> free_;
  size_t keep_;
};

Target make_target(const Sample& s) {
  Target t;
  const int64_t n = static_cast<int64_t>(s.objects.size());
  t.boxes = torch::empty({n, 4}, torch::kFloat32);
  t.labels = torch::empty({n}, torch::kInt64);
  float* b = t.boxes.data_ptr<float>();
  int64_t* l = t.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const data::Object& o = s.objects[static_cast<size_t>(i)];
    b[4 * i] = static_cast<float>(o.box.x1);
    b[4 * i + 1] = static_cast<float>(o.box.y1);
    b[4 * i + 2] = static_cast<float>(o.box.x2);
    b[4 * i + 3] = static_cast<float>(o.box.y2);
    l[i] = o.label;
  }
  return t;
}

}  // namespace

void add_niceness(int nice) {
  if (nice == 0) return;
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) setpriority(PRIO_PROCESS, tid, std::min(19, current + nice));  // best effort
}

// Applies the niceness to every worker thread that joins the loader's arena.
class NiceObserver : public tbb::task_scheduler_observer {
 public:
  NiceObserver(tbb::task_arena& arena, int nice) : tbb::task_scheduler_observer(arena), nice_(nice) {
    if (nice_ != 0) observe(true);
  }
  ~NiceObserver() override {
    if (nice_ != 0) observe(false);
  }
  void on_scheduler_entry(bool) override {
    thread_local bool done = false;
    if (!done) add_niceness(nice_);
    done = true;
  }

 private:
  int nice_;
};

struct Loader::Impl {
  const data::Dataset& dataset;
  Pipeline pipeline;
  LoaderOptions options;
  tbb::task_arena arena;
  NiceObserver nice_observer;

  mutable std::mutex mutex;
  std::condition_variable not_full, not_empty;
  std::deque<Batch> queue;
  bool producing = false;         // the producer of the current epoch has not finished
  std::atomic<bool> stop{false};  // written under mutex, so condition variable waits see it
  bool started = false;
  std::exception_ptr error;
  std::thread producer;
  LoaderStats stats;
  std::shared_ptr<TensorPool> pool;
  DecodeCache cache;
  size_t order_size;  // records per epoch

  Impl(const data::Dataset& d, Pipeline p, LoaderOptions o)
      : dataset(d),
        pipeline(std::move(p)),
        options(std::move(o)),
        arena(options.threads > 0 ? options.threads : tbb::task_arena::automatic),
        nice_observer(arena, options.nice),
        // Enough for the queue, the batches in flight and a few held by the consumer.
        pool(std::make_shared<TensorPool>(static_cast<size_t>(std::max(1, options.prefetch_batches)) + 4)),
        cache(options.cache_mb * (size_t(1) << 20)),
        order_size(options.order ? options.order(0).size() : dataset.images.size()) {}

  size_t batch_count() const {
    const size_t n = order_size, b = static_cast<size_t>(options.batch_size);
    return options.drop_last ? n / b : (n + b - 1) / b;
  }

  void halt() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    not_full.notify_all();
    if (producer.joinable()) producer.join();
    std::lock_guard<std::mutex> lock(mutex);
    queue.clear();
    producing = false;
    stop = false;
  }

  void begin(int epoch) {
    halt();
    std::vector<size_t> order =
        options.order ? options.order(epoch) : epoch_order(dataset.images.size(), options.seed, epoch, options.shuffle);
    if (order.size() != order_size)
      throw std::logic_error("Loader: epoch " + std::to_string(epoch) + "'s order has " + std::to_string(order.size()) +
                             " records, epoch 0's " + std::to_string(order_size));
    for (size_t i : order)
      if (i >= dataset.images.size()) throw std::logic_error("Loader: record " + std::to_string(i) + " out of range");
    {
      std::lock_guard<std::mutex> lock(mutex);
      producing = true;
      started = true;
      error = nullptr;
    }
    producer = std::thread([this, epoch, order = std::move(order)] {
      add_niceness(options.nice);
      try {
        produce(epoch, order);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        producing = false;
      }
      not_empty.notify_all();
    });
  }

  bool stopping() const { return stop.load(std::memory_order_relaxed); }

  void process(Slot& slot, size_t index, int size, float* direct_dst, int epoch) {
    const data::ImageRecord& rec = dataset.images[index];
    slot.index = index;
    slot.image_id = rec.id;
    const Context context{size, size};
    const cv::Size stretch = options.decode_resized ? pipeline.leading_stretch(context) : cv::Size();
    const auto t0 = Clock::now();
    image::DecodeResult decoded;
    if (auto hit = cache.find(index, stretch)) {
      decoded = std::move(*hit);
      slot.cache_hit = true;
    } else {
      const auto file = dataset.image_root / rec.file;
      try {
        decoded = stretch.empty() ? image::decode_image(file) : image::decode_image_resized(file, stretch);
      } catch (const std::exception& e) {
        // Listed as "path: reason" on one line; the decoder's errors name the file, others may not.
        const std::string what = data::one_line_message(e.what()), name = file.string();
        slot.error = what.rfind(name, 0) == 0 ? what : data::printable(name, 0) + ": " + what;
        slot.decode_s = seconds_since(t0);
        return;
      }
      cache.insert(index, stretch, decoded);
    }
    slot.decode_s = seconds_since(t0);
    const auto t1 = Clock::now();
    slot.converted = !decoded.converted.empty();
    Sample s = make_sample(rec, index, std::move(decoded.image));
    size_t first = 0;
    if (!stretch.empty()) {
      // The decoder did the pipeline's leading resize: the sample starts where that resize leaves it.
      s.original_width = decoded.source_size.width;
      s.original_height = decoded.source_size.height;
      finish_stretch(s, decoded.source_size);
      first = 1;
    }
    Rng rng(options.seed, static_cast<uint64_t>(epoch), index);
    pipeline.apply(s, rng, context, first);
    slot.original_size = {s.original_width, s.original_height};
    slot.to_original = s.to_original;
    slot.dropped = s.dropped_objects;
    slot.empty = s.objects.empty();
    slot.target = make_target(s);
    if (direct_dst && s.image.cols == size && s.image.rows == size) {
      write_normalised(s.image, direct_dst, options.mean, options.std);
      slot.direct = true;
    } else {
      slot.image = to_tensor(s.image, options.mean, options.std);
    }
    slot.augment_s = seconds_since(t1);
    slot.ok = true;
  }

  // One batch on its way: its images are processed independently and collated when the last is done.
  struct Work {
    size_t index = 0, first = 0;  // batch index; position of its first image in the epoch order
    int size = 0;
    torch::Tensor stack;  // [count,3,size,size], written in place by same-size images
    std::vector<Slot> slots;
  };
  struct Item {
    std::shared_ptr<Work> work;
    size_t k = 0;  // image within the batch
  };

  // A TBB pipeline keeps every thread busy across batch boundaries: images flow one by one through
  // decode + augment in parallel, and an in-order serial stage collates each batch when its last
  // image arrives and waits for room in the queue. The token count bounds the images in flight.
  void produce(int epoch, const std::vector<size_t>& order) {
    const size_t n = order.size(), bs = static_cast<size_t>(options.batch_size);
    const size_t nb = batch_count();
    const size_t total = std::min(n, nb * bs);
    const size_t tokens = std::max<size_t>(2 * static_cast<size_t>(arena.max_concurrency()),
                                           bs * static_cast<size_t>(std::max(1, options.prefetch_batches / 2)));
    size_t next = 0;
    std::shared_ptr<Work> open;
    auto source = [&](tbb::flow_control& fc) -> Item {
      if (next >= total || stopping()) {
        fc.stop();
        return {};
      }
      const size_t b = next / bs, k = next - b * bs;
      if (k == 0) {
        open = std::make_shared<Work>();
        open->index = b;
        open->first = next;
        Rng rng(options.seed, static_cast<uint64_t>(epoch), b, 1);
        open->size = options.sizes[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(options.sizes.size()) - 1))];
        const size_t count = std::min(n, (b + 1) * bs) - b * bs;
        open->stack = pool->empty({static_cast<int64_t>(count), 3, open->size, open->size});
        open->slots.resize(count);
      }
      ++next;
      return Item{open, k};
    };
    auto work = [&](Item item) -> Item {
      Work& w = *item.work;
      if (!stopping()) {
        const size_t plane = static_cast<size_t>(w.size) * static_cast<size_t>(w.size);
        float* dst = w.stack.data_ptr<float>() + item.k * 3 * plane;
        process(w.slots[item.k], order[w.first + item.k], w.size, dst, epoch);
      }
      return item;
    };
    auto sink = [&](Item item) {
      Work& w = *item.work;
      if (item.k + 1 != w.slots.size() || stopping()) return;
      std::optional<Batch> batch = collate(w.slots, 0, w.slots.size(), w.stack, epoch, w.index);
      if (!batch) return;
      std::unique_lock<std::mutex> lock(mutex);
      not_full.wait(lock, [&] {
        return stopping() || queue.size() < static_cast<size_t>(std::max(1, options.prefetch_batches));
      });
      if (stopping()) return;
      queue.push_back(std::move(*batch));
      lock.unlock();
      not_empty.notify_one();
    };
    arena.execute([&] {
      tbb::parallel_pipeline(tokens, tbb::make_filter<void, Item>(tbb::filter_mode::serial_in_order, source) &
                                         tbb::make_filter<Item, Item>(tbb::filter_mode::parallel, work) &
                                         tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, sink));
    });
  }

  std::optional<Batch> collate(std::vector<Slot>& slots, size_t p0, size_t p1, torch::Tensor stack, int epoch,
                               size_t b) {
    Batch batch;
    batch.epoch = epoch;
    batch.batch_index = b;
    bool all_direct = true;
    std::vector<int64_t> keep;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (size_t p = p0; p < p1; ++p) {
        const Slot& s = slots[p];
        stats.decode_seconds += s.decode_s;
        stats.augment_seconds += s.augment_s;
        if (!s.ok) {
          ++stats.skipped;
          stats.skipped_files.push_back(s.error);
          continue;
        }
        ++stats.images;
        stats.cache_hits += s.cache_hit;
        stats.converted += s.converted;
        stats.empty_images += s.empty;
        stats.dropped_objects += static_cast<size_t>(s.dropped);
      }
    }
    for (size_t p = p0; p < p1; ++p) {
      Slot& s = slots[p];
      if (!s.ok) continue;
      keep.push_back(static_cast<int64_t>(p - p0));
      all_direct &= s.direct;
      batch.targets.push_back(std::move(s.target));
      batch.indices.push_back(s.index);
      batch.image_ids.push_back(s.image_id);
      batch.to_original.push_back(s.to_original);
      batch.original_sizes.push_back(s.original_size);
    }
    if (keep.empty()) return std::nullopt;
    if (all_direct) {
      batch.images =
          static_cast<int64_t>(keep.size()) == stack.size(0) ? stack : stack.index_select(0, torch::tensor(keep));
      return batch;
    }
    int64_t h = 0, w = 0;
    for (int64_t k : keep) {
      const Slot& s = slots[p0 + static_cast<size_t>(k)];
      h = std::max(h, s.direct ? stack.size(2) : s.image.size(1));
      w = std::max(w, s.direct ? stack.size(3) : s.image.size(2));
    }
    batch.images = torch::zeros({static_cast<int64_t>(keep.size()), 3, h, w}, torch::kFloat32);
    for (size_t i = 0; i < keep.size(); ++i) {
      const Slot& s = slots[p0 + static_cast<size_t>(keep[i])];
      const torch::Tensor img = s.direct ? stack[keep[i]] : s.image;
      batch.images[static_cast<int64_t>(i)].narrow(1, 0, img.size(1)).narrow(2, 0, img.size(2)).copy_(img);
    }
    return batch;
  }
};

Loader::Loader(const data::Dataset& dataset, Pipeline pipeline, LoaderOptions options) {
  if (options.batch_size < 1)
    throw std::invalid_argument("loader: batch_size must be >= 1, got " + std::to_string(options.batch_size));
  if (options.sizes.empty()) throw std::invalid_argument("loader: sizes must not be empty");
  for (int s : options.sizes)
    if (s < 1) throw std::invalid_argument("loader: bad size " + std::to_string(s));
  impl_ = std::make_unique<Impl>(dataset, std::move(pipeline), std::move(options));
}

Loader::~Loader() { impl_->halt(); }

void Loader::start_epoch(int epoch) { impl_->begin(epoch); }

std::optional<Batch> Loader::next() {
  bool started;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    started = impl_->started;
  }
  if (!started) impl_->begin(0);
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->not_empty.wait(lock, [&] { return !impl_->queue.empty() || !impl_->producing; });
  if (impl_->queue.empty()) {
    if (impl_->error) {
      std::exception_ptr e = impl_->error;
      impl_->error = nullptr;
      std::rethrow_exception(e);
    }
    return std::nullopt;
  }
  Batch b = std::move(impl_->queue.front());
  impl_->queue.pop_front();
  lock.unlock();
  impl_->not_full.notify_one();
  return b;
}

size_t Loader::batches_per_epoch() const { return impl_->batch_count(); }

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int epoch, bool shuffle) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  if (shuffle && n > 1) {
    Rng rng(seed, static_cast<uint64_t>(epoch), 0, 2);
    for (size_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(i)))]);
  }
  return order;
}

LoaderStats Loader::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  LoaderStats s = impl_->stats;
  s.cache_mb = double(impl_->cache.bytes()) / (1 << 20);
  return s;
}

}  // namespace cvtk::augment

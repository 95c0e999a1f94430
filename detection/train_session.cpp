#include "detection/train_session.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "augment/preview.h"
#include "augment/random.h"
#include "detection/distributed/sharded_sampler.h"
#include "detection/init_weights.h"
#include "detection/train_defaults.h"
#include "detection/train_device.h"
#include "detection/train_optimizer.h"
#include "vision/data/dataset_io.h"
#include "vision/data/file_util.h"

namespace cvtk::detection {

namespace {

// OUT/augmented/: the first training images as the loader augments them in epoch 0, and their mosaic,
// which the training report shows. Only a picture: a failure costs a warning, never the run.
void write_augmented_samples(const TrainOptions& o, std::FILE* out) {
  augment::PreviewOptions p;
  p.dataset = o.data;
  p.split = o.train_split;
  p.pipeline = o.pipeline;
  p.n = 8;
  p.size = o.size;
  p.seed = o.seed;
  p.out = o.out / "augmented";
  p.exist_ok = true;
  try {
    std::ostringstream discarded;
    augment::write_preview(p, discarded);
  } catch (const std::exception& e) {
    std::fprintf(out, "warning: augmented samples not written: %s\n", e.what());
  }
}

// --cache-mb -1: an eighth of the memory available now (Linux's MemAvailable), at most 1 GiB; none
// where that cannot be read.
size_t auto_cache_mb() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kb = 0;
  while (meminfo >> key >> kb) {
    if (key == "MemAvailable:") return std::min<size_t>(1024, kb / 1024 / 8);
    meminfo.ignore(256, '\n');
  }
  return 0;
}

std::filesystem::path absolute_or_empty(const std::filesystem::path& p) {
  return p.empty() ? p : std::filesystem::absolute(p).lexically_normal();
}

// A resumed run continues with its own options (stored in last.pt); only this invocation's limits and
// resources, and a new length, come from the command line.
TrainOptions resumed_options(const TrainOptions& given, const Checkpoint& c) {
  TrainOptions saved = from_config_text(c.options_text, c.file.string() + " (options)");
  saved.resume = absolute_or_empty(given.resume);
  if (given.epochs > 0) saved.epochs = given.epochs;
  saved.out = saved.resume;
  saved.max_steps = given.max_steps;
  saved.time_limit_minutes = given.time_limit_minutes;
  saved.log_every = given.log_every;
  if (given.threads > 0) saved.threads = given.threads;
  if (given.loader_threads > 0) saved.loader_threads = given.loader_threads;
  saved.dist_timeout = given.dist_timeout;
  return saved;
}

}  // namespace

std::vector<GroundTruth> training_targets(const augment::Batch& b, torch::Device device, uint64_t seed, long step) {
  std::vector<GroundTruth> gts;
  for (size_t i = 0; i < b.targets.size(); ++i)
    gts.push_back({b.targets[i].boxes.to(device), b.targets[i].labels.to(device),
                   augment::Rng(seed, uint64_t(step), b.indices[i], 3).next()});
  return gts;
}

TrainSession::TrainSession(TrainOptions o, std::FILE* out, const distributed::World& w) : world(w), out_(out) {
  resuming = !o.resume.empty();
  Checkpoint resumed;
  if (resuming) {
    resumed = read_checkpoint(o.resume / "last.pt");
    o = resumed_options(o, resumed);
  }
  // Paths are saved absolute, so `--resume DIR` works from any working directory.
  o.data = absolute_or_empty(o.data);
  o.val_data = absolute_or_empty(o.val_data);
  o.init_weights = absolute_or_empty(o.init_weights);

  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(distributed::threads_per_process(o.threads, hw, world.local_size));
  check_train_options(o);
  device = parse_train_device(o.device);

  data::ReadOptions ro;
  ro.format = data::parse_format(o.format);
  ro.split = o.train_split;
  train_set = data::read_dataset(o.data, ro);
  if (train_set.images.empty())
    throw std::runtime_error(o.data.string() + ": split '" + o.train_split + "' has no images");
  if (train_set.classes.empty()) throw std::runtime_error(o.data.string() + ": the dataset names no classes");
  // A batch of W x batch images per step (drop_last), so the rules see the steps the loader will make.
  const long spe_estimate = std::max<long>(1, long(train_set.images.size()) / (long(o.batch) * world.size));
  ema_unset = o.ema < 0;
  steps_unset = o.schedule.step_epochs.empty();
  defaults_chosen = resolve_train_defaults(o, train_set, spe_estimate);
  check_train_options(o);
  const InferenceOptions inference = validation_inference(o);
  inference.check();
  pipeline = augment::pipeline_from_text(o.pipeline);
  validate_on = o.val_split != "none" && !o.val_split.empty();
  if (validate_on) {
    ro.split = o.val_split;
    val_set = data::read_dataset(o.val_data.empty() ? o.data : o.val_data, ro);
    if (val_set.classes != train_set.classes)
      throw std::runtime_error("validation classes differ from training classes (" + val_set.source + ")");
  }

  info.model = o.model;
  info.classes = train_set.classes;
  info.num_fc = o.num_fc;
  info.inference = inference;
  if (resuming && resumed.info.classes != info.classes)
    throw std::runtime_error("resume: the dataset's classes differ from the checkpoint's");
  torch::manual_seed(o.seed);
  // Sampling options shape the loss only; checkpoints and inference do not need them.
  auto model_opts = thundernet_options(info);
  model_opts.rcnn.batch_per_image = o.rcnn_rois;
  model = ThunderNet(model_opts);
  if (!o.init_weights.empty() && !resuming) load_init_weights(model, o.init_weights, out_);
  if (o.freeze_stages > 0 || o.freeze_bn) model->freeze_backbone(o.freeze_stages, o.freeze_bn);
  model->to(device);
  optimizer = make_optimizer(model, o);
  if (o.ema > 0) ema = std::make_unique<ModelEma>(*model, o.ema, o.ema_ramp);
  if (resuming) {
    restore_training_state(resumed, *optimizer);
    vision::load_state_dict(*model, resumed.model, true);
    if (ema) {
      ema->state() = resumed.ema;
      ema->set_updates(resumed.ema_updates);
    }
    state = resumed.state;
  }

  make_loader(o, hw);
  lr_scale = world.size;  // the linear scaling rule: --lr is one process's rate
  if (resuming) continue_position(resumed.state.world_size, o.batch);
  state.world_size = world.size;
  options = std::move(o);
  set_epochs(options.epochs);
}

void TrainSession::set_epochs(int epochs) {
  TrainOptions& o = options;
  o.epochs = epochs;
  if (o.schedule.kind == "step" && steps_unset)
    o.schedule.step_epochs = {std::max(1, o.epochs * 2 / 3), std::max(1, o.epochs * 8 / 9)};
  LrScheduleOptions scaled = o.schedule;
  scaled.base *= lr_scale;
  schedule = std::make_unique<LrSchedule>(scaled, steps_per_epoch, o.epochs);
  if (ema_unset && ema && !resuming) {
    const EmaSetting e = ema_defaults(steps_per_epoch * o.epochs);
    o.ema = e.decay;
    o.ema_ramp = e.ramp;
    ema->set_decay(e.decay, e.ramp);
  }
  if (!options_text.empty() && o.time_minutes > 0) {  // a --time plan in an open run directory
    time_planned = true;
    options_text = saved_options_text();
    if (world.rank == 0) data::write_file_atomic(o.out / "options.toml", options_text);
  }
}

std::string TrainSession::saved_options_text() const {
  std::string s;
  if (!defaults_chosen.empty()) {
    s = "# chosen from the training set:";
    for (const auto& c : defaults_chosen) s += " " + c.flag;
    s += "\n";
  }
  if (!time_planned) return s + to_config_text(options);
  // The plan is made: a --config or --resume of this run repeats its epochs instead of planning anew.
  TrainOptions planned = options;
  planned.time_minutes = 0;
  return s + "# epochs planned by --time " + data::format_number(options.time_minutes) + " from the measured pace\n" +
         to_config_text(planned);
}

void TrainSession::open_run_directory() {
  TrainOptions& o = options;
  if (resuming) {
    run_dir.path = run_dir.requested = o.out;
    run_dir.existing = true;
  } else {
    run_dir = data::choose_output_dir(o.out, o.exist_ok);
    o.out = absolute_or_empty(run_dir.path);
  }
  options_text = saved_options_text();
  created_ = data::create_directories_noting_first(o.out);
  fresh_ = !resuming && !run_dir.existing;
  data::write_file_atomic(o.out / "options.toml", options_text);
  const bool new_logs = !resuming || !std::filesystem::exists(o.out / "results.csv");
  csv = std::make_unique<EpochLog>(o.out / "results.csv", EpochLog::Format::csv, !new_logs);
  jsonl = std::make_unique<EpochLog>(o.out / "results.jsonl", EpochLog::Format::json_lines, !new_logs);

  std::fprintf(
      out_, "cvtk train: %s on %s (%zu train images, %zu classes%s)\n", o.model.c_str(), o.data.string().c_str(),
      train_set.images.size(), train_set.classes.size(),
      validate_on ? (", " + std::to_string(val_set.images.size()) + " val images").c_str() : ", no validation");
  std::fprintf(out_, "out: %s%s\n", run_dir.describe().c_str(),
               resuming           ? "; resumed"
               : run_dir.existing ? "; --exist-ok: writing into it"
                                  : "");
  std::fprintf(out_, "threads: %d LibTorch, %s loader%s; decoded-image cache up to %zu MiB; device %s\n",
               torch::get_num_threads(), loader_threads_ > 0 ? std::to_string(loader_threads_).c_str() : "all",
               world.local_size > 1 && o.threads == 0 ? " per process (the cores shared by the local processes)" : "",
               cache_mb_, o.device.c_str());
  if (world.distributed())
    std::fprintf(out_,
                 "distributed: %d processes (%s), %d per machine; global batch %d x %d = %d; lr %s x %d = %s for the "
                 "global batch (linear scaling: --lr is one process's rate with --batch images); collective "
                 "timeout %s s\n",
                 world.size, world.describe().c_str(), world.local_size, o.batch, world.size, o.batch * world.size,
                 data::format_number(o.schedule.base).c_str(), world.size,
                 data::format_number(o.schedule.base * lr_scale).c_str(), data::format_number(o.dist_timeout).c_str());
  if (!defaults_chosen.empty())
    std::fprintf(out_, "chosen from the training set (give the flag to override):\n%s",
                 describe(defaults_chosen).c_str());
  std::fprintf(out_, "inference: %s%s\n", info.inference.describe().c_str(),
               validate_on ? " (validation; stored in the checkpoints)" : " (stored in the checkpoints)");
  std::fprintf(out_, "schedule: %s; %ld steps/epoch\npipeline:\n%s\noptions:\n%s", schedule->describe().c_str(),
               steps_per_epoch, pipeline.describe().c_str(), options_text.c_str());
  if (resuming)
    std::fprintf(out_, "resuming %s at epoch %d, step %ld (batch %ld of the epoch)\n", o.resume.string().c_str(),
                 state.epoch + 1, state.step, state.batch_in_epoch);
  if (!resize_note_.empty()) std::fprintf(out_, "resume: %s\n", resize_note_.c_str());
  if (!resuming) write_augmented_samples(o, out_);
  std::fflush(out_);
}

// The training loader: this rank's shard of every epoch when the run is data parallel.
void TrainSession::make_loader(const TrainOptions& o, int hw) {
  augment::LoaderOptions lo;
  lo.batch_size = o.batch;
  lo.shuffle = true;
  lo.drop_last = train_set.images.size() > size_t(o.batch);
  lo.seed = o.seed;
  lo.threads = o.loader_threads > 0 || world.local_size == 1 ? o.loader_threads : std::max(1, hw / world.local_size);
  if (world.distributed()) {
    distributed::ShardOptions so{train_set.images.size(), o.batch, world.rank, world.size, o.seed};
    distributed::global_batches(so);  // throws when the dataset is smaller than one global batch
    lo.order = [so](int epoch) { return distributed::shard_of_epoch(so, epoch); };
  }
  lo.cache_mb = o.cache_mb >= 0 ? size_t(o.cache_mb) : auto_cache_mb();
  cache_mb_ = lo.cache_mb;
  loader_threads_ = lo.threads;
  lo.nice = 10;  // the model's threads first; the loader needs only a small share of the cores
  lo.sizes = o.multiscale.empty() ? std::vector<int>{o.size} : o.multiscale;
  loader = std::make_unique<augment::Loader>(train_set, pipeline, lo);
  steps_per_epoch = long(loader->batches_per_epoch());
}

void TrainSession::continue_position(int saved_world, int batch) {
  const long saved_done = state.batch_in_epoch;
  if (saved_world != world.size && saved_done > 0) {
    // The saved run's global batches were saved_world x batch images; continue at the first global
    // batch of this world size that starts at or before the images already trained (the same epoch
    // permutation: a few images may be trained twice, none skipped).
    const long images = saved_done * saved_world * batch;
    state.batch_in_epoch = images / (long(world.size) * batch);
    resize_note_ = "the saved run had " + std::to_string(saved_world) + " processes: " + std::to_string(images) +
                   " images of epoch " + std::to_string(state.epoch + 1) + " done; continuing at global batch " +
                   std::to_string(state.batch_in_epoch + 1) + " of " + std::to_string(world.size) + " x " +
                   std::to_string(batch);
  }
}

void TrainSession::adopt_run_directory(const std::filesystem::path& dir) {
  options.out = dir;
  options_text = saved_options_text();
}

void TrainSession::mark_checkpoint_written() { kept_ = true; }

TrainSession::~TrainSession() {
  // The loader's threads stop before the datasets they read go away.
  loader.reset();
  csv.reset();
  jsonl.reset();
  if (!fresh_ || kept_) return;
  std::error_code ec;
  const auto& dir = options.out;
  if (!created_.empty()) {
    std::filesystem::remove_all(dir, ec);
    if (created_ != dir) data::remove_empty_up_to(dir.parent_path(), created_);
    return;
  }
  // The directory was there and empty (choose_output_dir), so all it holds now is this run's: empty it again.
  // (Non-throwing iteration: this runs in a destructor, maybe while an exception unwinds.)
  std::vector<std::filesystem::path> entries;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    entries.push_back(it->path());
  for (const auto& entry : entries) std::filesystem::remove_all(entry, ec);
}

std::string TrainSession::image_files(const std::vector<int64_t>& ids) const {
  std::string s;
  for (int64_t id : ids) {
    std::string name = std::to_string(id);
    for (const auto& r : train_set.images)
      if (r.id == id) name = r.file;
    s += (s.empty() ? "" : " ") + name;
  }
  return s;
}

}  // namespace cvtk::detection

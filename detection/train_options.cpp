#include "detection/train_options.h"

#include "augment/pipeline.h"
#include "detection/thundernet.h"
#include "vision/backbones/registry.h"
#include "vision/data/file_util.h"

#include <algorithm>
#include <cmath>

#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

namespace cvtk::detection {

namespace {

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

template <class T>
std::string list(const std::vector<T>& v) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  s << "]";
  return s.str();
}

std::string unquote(const std::string& v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return v;
}

std::vector<std::string> items(const std::string& v) {
  std::vector<std::string> out;
  std::string s = v;
  if (!s.empty() && s.front() == '[') s = s.substr(1, s.size() - 2);
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');) {
    x.erase(0, x.find_first_not_of(" \t"));
    x.erase(x.find_last_not_of(" \t") + 1);
    if (!x.empty()) out.push_back(x);
  }
  return out;
}

}  // namespace

std::string to_config_text(const TrainOptions& o) {
  std::ostringstream s;
  s << "data=" << quote(o.data.string()) << "\n"
    << "format=" << quote(o.format) << "\n"
    << "val-data=" << quote(o.val_data.string()) << "\n"
    << "train-split=" << quote(o.train_split) << "\n"
    << "val-split=" << quote(o.val_split) << "\n"
    << "model=" << quote(o.model) << "\n"
    << "num-fc=" << o.num_fc << "\n"
    << "rcnn-rois=" << o.rcnn_rois << "\n"
    << "epochs=" << o.epochs << "\n"
    << "batch=" << o.batch << "\n"
    << "size=" << o.size << "\n"
    << "multiscale=" << list(o.multiscale) << "\n"
    << "pipeline=" << quote(o.pipeline) << "\n"
    << "lr=" << data::format_number(o.schedule.base) << "\n"
    << "schedule=" << quote(o.schedule.kind) << "\n"
    << "steps=" << list(o.schedule.step_epochs) << "\n"
    << "gamma=" << data::format_number(o.schedule.gamma) << "\n"
    << "min-lr-factor=" << data::format_number(o.schedule.min_factor) << "\n"
    << "warmup=" << o.schedule.warmup_steps << "\n"
    << "warmup-factor=" << data::format_number(o.schedule.warmup_factor) << "\n"
    << "optimizer=" << quote(o.optimizer) << "\n"
    << "momentum=" << data::format_number(o.momentum) << "\n"
    << "weight-decay=" << data::format_number(o.weight_decay) << "\n"
    << "ema=" << data::format_number(o.ema) << "\n"
    << "ema-ramp=" << data::format_number(o.ema_ramp) << "\n"
    << "clip-grad=" << data::format_number(o.clip_grad) << "\n"
    << "freeze-stages=" << o.freeze_stages << "\n"
    << "freeze-bn=" << (o.freeze_bn ? "true" : "false") << "\n"
    << "init-weights=" << quote(o.init_weights.string()) << "\n"
    << "out=" << quote(o.out.string()) << "\n"
    << "val-every=" << o.val_every << "\n"
    << "seed=" << o.seed << "\n"
    << "threads=" << o.threads << "\n"
    << "loader-threads=" << o.loader_threads << "\n"
    << "cache-mb=" << o.cache_mb << "\n"
    << "device=" << quote(o.device) << "\n"
    << "sync-bn=" << (o.sync_bn ? "true" : "false") << "\n"
    << "dist-timeout=" << data::format_number(o.dist_timeout) << "\n"
    << "time=" << data::format_number(o.time_minutes) << "\n"
    << "time-limit=" << data::format_number(o.time_limit_minutes) << "\n"
    << "log-every=" << o.log_every << "\n"
    << "max-steps=" << o.max_steps << "\n"
    << "score-threshold=" << data::format_number(o.score_threshold) << "\n"
    << "nms-iou=" << data::format_number(o.nms_iou) << "\n"
    << "soft-nms=" << (o.soft_nms ? "true" : "false") << "\n"
    << "max-dets=" << o.max_detections << "\n";
  return s.str();
}

void check_train_options(const TrainOptions& o) {
  auto fail = [](const std::string& flag, const std::string& value, const std::string& rule) {
    throw std::invalid_argument(flag + " " + value + ": " + rule);
  };
  auto at_least = [&](const char* flag, long long v, long long lo) {
    if (v < lo) fail(flag, std::to_string(v), "must be at least " + std::to_string(lo));
  };
  auto within = [&](const char* flag, long long v, long long lo, long long hi) {
    if (v < lo || v > hi)
      fail(flag, std::to_string(v), "must be within [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  // Real numbers: NaN and infinities fail every rule.
  auto real = [&](const char* flag, double v, double lo, double hi, bool lo_open, bool hi_open) {
    const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    if (ok) return;
    std::string rule;
    if (std::isinf(hi))
      rule = lo_open ? "must be above " + data::format_number(lo) : "must be at least " + data::format_number(lo);
    else
      rule = std::string("must be within ") + (lo_open ? "(" : "[") + data::format_number(lo) + ", " +
             data::format_number(hi) + (hi_open ? ")" : "]");
    fail(flag, data::format_number(v), rule);
  };
  const double inf = HUGE_VAL;
  // Unset values (0, -1, "auto": train_defaults.h) pass; the values they resolve to are valid by rule.
  at_least("--epochs", o.epochs, 0);
  at_least("--batch", o.batch, 1);
  if (o.size != 0) within("--size", o.size, 64, 4096);
  for (int side : o.multiscale) within("--multiscale", side, 64, 4096);
  within("--num-fc", o.num_fc, 1, 2);
  if (o.rcnn_rois != 0) within("--rcnn-rois", o.rcnn_rois, 16, 4096);
  if (o.schedule.base != 0) real("--lr", o.schedule.base, 0, inf, true, false);
  if (o.schedule.kind != "step" && o.schedule.kind != "cosine" && o.schedule.kind != "auto")
    fail("--schedule", o.schedule.kind, "must be step or cosine");
  for (int e : o.schedule.step_epochs) at_least("--steps", e, 1);
  real("--gamma", o.schedule.gamma, 0, inf, true, false);
  real("--min-lr-factor", o.schedule.min_factor, 0, 1, false, false);
  at_least("--warmup", o.schedule.warmup_steps, -1);
  real("--warmup-factor", o.schedule.warmup_factor, 0, 1, true, false);
  if (o.optimizer != "sgd" && o.optimizer != "adamw") fail("--optimizer", o.optimizer, "must be sgd or adamw");
  real("--momentum", o.momentum, 0, 1, false, true);
  real("--weight-decay", o.weight_decay, 0, inf, false, false);
  if (o.ema != -1) real("--ema", o.ema, 0, 1, false, true);
  real("--ema-ramp", o.ema_ramp, 1, inf, false, false);
  real("--time", o.time_minutes, 0, inf, false, false);
  real("--clip-grad", o.clip_grad, 0, inf, false, false);
  within("--freeze-stages", o.freeze_stages, 0, 4);
  at_least("--val-every", o.val_every, 1);
  at_least("--threads", o.threads, 0);
  at_least("--loader-threads", o.loader_threads, 0);
  at_least("--cache-mb", o.cache_mb, -1);
  within("--nproc", o.nproc, 1, 1024);
  real("--dist-timeout", o.dist_timeout, 0, 86400, true, false);
  real("--time-limit", o.time_limit_minutes, 0, inf, false, false);
  at_least("--log-every", o.log_every, 1);
  at_least("--max-steps", o.max_steps, 0);
  real("--score-threshold", o.score_threshold, 0, 1, false, false);
  real("--nms-iou", o.nms_iou, 0, 1, true, false);
  at_least("--max-dets", o.max_detections, 1);
  try {
    if (o.pipeline != "auto") augment::pipeline_from_text(o.pipeline);
  } catch (const std::exception& e) {
    throw std::invalid_argument("--pipeline: " + std::string(e.what()));
  }
  try {
    const std::string backbone = model_options(o.model, 1).backbone;
    const auto names = vision::backbone_names();
    if (std::find(names.begin(), names.end(), backbone) == names.end()) {
      std::string known;
      for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
      std::string backbones;
      for (const auto& n : names) backbones += (backbones.empty() ? "" : ", ") + n;
      throw std::invalid_argument("unknown model; known: " + known +
                                  ", or thundernet-<backbone> with a backbone of: " + backbones);
    }
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--model " + o.model + ": " + e.what());
  }
}

InferenceOptions validation_inference(const TrainOptions& o) {
  InferenceOptions i;
  i.size = o.size;
  i.score_threshold = o.score_threshold;
  i.nms_iou = o.nms_iou;
  i.soft_nms = o.soft_nms;
  i.max_detections = o.max_detections;
  i.pipeline = "eval";
  return i;
}

TrainOptions from_config_text(const std::string& text, const std::string& source) {
  TrainOptions o;
  using Setter = std::function<void(const std::string&)>;
  auto integer = [](int& x) { return Setter([&x](const std::string& v) { x = std::stoi(v); }); };
  auto real = [](double& x) { return Setter([&x](const std::string& v) { x = std::stod(v); }); };
  auto str = [](std::string& x) { return Setter([&x](const std::string& v) { x = unquote(v); }); };
  auto path = [](std::filesystem::path& x) { return Setter([&x](const std::string& v) { x = unquote(v); }); };
  const std::map<std::string, Setter> keys = {
      {"data", path(o.data)},
      {"format", str(o.format)},
      {"val-data", path(o.val_data)},
      {"train-split", str(o.train_split)},
      {"val-split", str(o.val_split)},
      {"model", str(o.model)},
      {"num-fc", integer(o.num_fc)},
      {"rcnn-rois", integer(o.rcnn_rois)},
      {"epochs", integer(o.epochs)},
      {"batch", integer(o.batch)},
      {"size", integer(o.size)},
      {"multiscale",
       [&](const std::string& v) {
         o.multiscale.clear();
         for (auto& x : items(v)) o.multiscale.push_back(std::stoi(x));
       }},
      {"pipeline", str(o.pipeline)},
      {"lr", real(o.schedule.base)},
      {"schedule", str(o.schedule.kind)},
      {"steps",
       [&](const std::string& v) {
         o.schedule.step_epochs.clear();
         for (auto& x : items(v)) o.schedule.step_epochs.push_back(std::stoi(x));
       }},
      {"gamma", real(o.schedule.gamma)},
      {"min-lr-factor", real(o.schedule.min_factor)},
      {"warmup", integer(o.schedule.warmup_steps)},
      {"warmup-factor", real(o.schedule.warmup_factor)},
      {"optimizer", str(o.optimizer)},
      {"momentum", real(o.momentum)},
      {"weight-decay", real(o.weight_decay)},
      {"ema", real(o.ema)},
      {"ema-ramp", real(o.ema_ramp)},
      {"clip-grad", real(o.clip_grad)},
      {"freeze-stages", integer(o.freeze_stages)},
      {"freeze-bn", [&](const std::string& v) { o.freeze_bn = (v == "true" || v == "1"); }},
      {"init-weights", path(o.init_weights)},
      {"out", path(o.out)},
      {"val-every", integer(o.val_every)},
      {"seed", [&](const std::string& v) { o.seed = std::stoull(v); }},
      {"threads", integer(o.threads)},
      {"loader-threads", integer(o.loader_threads)},
      {"cache-mb", integer(o.cache_mb)},
      {"device", str(o.device)},
      {"sync-bn", [&](const std::string& v) { o.sync_bn = (v == "true" || v == "1"); }},
      {"dist-timeout", real(o.dist_timeout)},
      {"time", real(o.time_minutes)},
      {"time-limit", real(o.time_limit_minutes)},
      {"log-every", integer(o.log_every)},
      {"max-steps", integer(o.max_steps)},
      {"score-threshold", real(o.score_threshold)},
      {"nms-iou", real(o.nms_iou)},
      {"soft-nms", [&](const std::string& v) { o.soft_nms = (v == "true" || v == "1"); }},
      {"max-dets", integer(o.max_detections)}};
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw std::invalid_argument(source + ":" + std::to_string(n) + ": expected key=value");
    auto key = line.substr(0, eq), value = line.substr(eq + 1);
    key.erase(key.find_last_not_of(" \t") + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    auto it = keys.find(key);
    if (it == keys.end()) throw std::invalid_argument(source + ":" + std::to_string(n) + ": unknown key '" + key + "'");
    try {
      it->second(value);
    } catch (const std::logic_error&) {
      throw std::invalid_argument(source + ":" + std::to_string(n) + ": bad value for '" + key + "': " + value);
    }
  }
  return o;
}

}  // namespace cvtk::detection

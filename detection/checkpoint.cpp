#include "detection/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>
#include <stdexcept>

namespace cvtk::detection {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

// Parameter names contain dots, which archives reserve for nesting: tensors are stored as t0, t1, ...
// with their names in one text entry.
void write_dict(torch::serialize::OutputArchive& a, const vision::StateDict& d) {
  std::vector<std::string> names;
  for (size_t i = 0; i < d.size(); ++i) {
    names.push_back(d[i].first);
    a.write("t" + std::to_string(i), d[i].second.detach(), /*is_buffer=*/true);
  }
  a.write("names", c10::IValue(join(names)));
}

vision::StateDict read_dict(torch::serialize::InputArchive& a) {
  c10::IValue names;
  if (!a.try_read("names", names)) throw std::runtime_error("weights table without names");
  vision::StateDict d;
  const auto list = split_lines(names.toStringRef());
  for (size_t i = 0; i < list.size(); ++i) {
    torch::Tensor t;
    if (!a.try_read("t" + std::to_string(i), t, /*is_buffer=*/true))
      throw std::runtime_error("weights table: tensor of '" + list[i] + "' missing");
    d.emplace_back(list[i], t);
  }
  return d;
}

c10::IValue read_value(torch::serialize::InputArchive& a, const std::string& key, const std::filesystem::path& file) {
  c10::IValue v;
  if (!a.try_read(key, v))
    throw std::runtime_error(file.string() + ": not a cvtk checkpoint or damaged (entry '" + key + "' missing)");
  return v;
}

}  // namespace

ThunderNetOptions thundernet_options(const ModelInfo& info) {
  auto o = model_options(info.model, int64_t(info.classes.size()));
  o.rcnn.num_fc = info.num_fc;
  apply_inference_options(info.inference, o);
  return o;
}

void save_checkpoint(const std::filesystem::path& file, const ModelInfo& info, const ThunderNet& model,
                     const ModelEma* ema, torch::optim::Optimizer* optimizer, const TrainState& state,
                     const std::string& options_text) {
  torch::serialize::OutputArchive a;
  a.write("format", c10::IValue(std::string("cvtk-checkpoint")));
  a.write("version", c10::IValue(int64_t(1)));
  a.write("model_name", c10::IValue(info.model));
  a.write("classes", c10::IValue(join(info.classes)));
  a.write("size", c10::IValue(int64_t(info.inference.size)));
  a.write("num_fc", c10::IValue(int64_t(info.num_fc)));
  a.write("inference_score", c10::IValue(info.inference.score_threshold));
  a.write("inference_nms_iou", c10::IValue(info.inference.nms_iou));
  a.write("inference_soft_nms", c10::IValue(info.inference.soft_nms));
  a.write("inference_max_dets", c10::IValue(int64_t(info.inference.max_detections)));
  a.write("inference_pipeline", c10::IValue(info.inference.pipeline));
  a.write("epoch", c10::IValue(int64_t(state.epoch)));
  a.write("step", c10::IValue(int64_t(state.step)));
  a.write("batch_in_epoch", c10::IValue(int64_t(state.batch_in_epoch)));
  a.write("best_metric", c10::IValue(state.best_metric));
  a.write("best_epoch", c10::IValue(int64_t(state.best_epoch)));
  a.write("world_size", c10::IValue(int64_t(state.world_size)));
  a.write("options", c10::IValue(options_text));
  a.write("rng", at::detail::getDefaultCPUGenerator().get_state(), true);
  torch::serialize::OutputArchive m;
  write_dict(m, vision::state_dict(*model));
  a.write("model", m);
  if (ema) {
    torch::serialize::OutputArchive e;
    write_dict(e, ema->state());
    a.write("ema", e);
    a.write("ema_updates", c10::IValue(int64_t(ema->updates())));
  }
  if (optimizer) {
    torch::serialize::OutputArchive o;
    optimizer->save(o);
    a.write("optimizer", o);
  }
  std::filesystem::create_directories(file.parent_path().empty() ? "." : file.parent_path());
  auto tmp = file;
  tmp += ".tmp";
  a.save_to(tmp.string());
  std::filesystem::rename(tmp, file);
}

Checkpoint read_checkpoint(const std::filesystem::path& file, torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(file)) throw std::runtime_error(file.string() + ": no such checkpoint");
  torch::serialize::InputArchive a;
  try {
    a.load_from(file.string());
  } catch (const c10::Error& e) {
    throw std::runtime_error(file.string() + ": cannot read checkpoint (" +
                             std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
  if (read_value(a, "format", file).toStringRef() != "cvtk-checkpoint")
    throw std::runtime_error(file.string() + ": field 'format' is not cvtk-checkpoint");
  const auto version = read_value(a, "version", file).toInt();
  if (version != 1)
    throw std::runtime_error(file.string() + ": checkpoint version " + std::to_string(version) +
                             " is not supported (1)");
  Checkpoint c;
  c.info.model = read_value(a, "model_name", file).toStringRef();
  c.info.classes = split_lines(read_value(a, "classes", file).toStringRef());
  c.info.inference.size = int(read_value(a, "size", file).toInt());
  c.info.num_fc = int(read_value(a, "num_fc", file).toInt());
  c10::IValue v;
  if (a.try_read("inference_score", v)) c.info.inference.score_threshold = v.toDouble();
  if (a.try_read("inference_nms_iou", v)) c.info.inference.nms_iou = v.toDouble();
  if (a.try_read("inference_soft_nms", v)) c.info.inference.soft_nms = v.toBool();
  if (a.try_read("inference_max_dets", v)) c.info.inference.max_detections = int(v.toInt());
  if (a.try_read("inference_pipeline", v)) c.info.inference.pipeline = v.toStringRef();
  c.state.epoch = int(read_value(a, "epoch", file).toInt());
  c.state.step = read_value(a, "step", file).toInt();
  c.state.batch_in_epoch = read_value(a, "batch_in_epoch", file).toInt();
  c.state.best_metric = read_value(a, "best_metric", file).toDouble();
  c.state.best_epoch = int(read_value(a, "best_epoch", file).toInt());
  if (a.try_read("world_size", v)) c.state.world_size = int(v.toInt());
  c.options_text = read_value(a, "options", file).toStringRef();
  torch::serialize::InputArchive m;
  if (!a.try_read("model", m)) throw std::runtime_error(file.string() + ": entry 'model' missing");
  c.model = read_dict(m);
  torch::serialize::InputArchive e;
  if (a.try_read("ema", e)) {
    c.ema = read_dict(e);
    c.ema_updates = read_value(a, "ema_updates", file).toInt();
  }
  auto o = std::make_shared<torch::serialize::InputArchive>();
  c.has_optimizer = a.try_read("optimizer", *o);
  if (c.has_optimizer) {
    c.optimizer_state = o;
    a.try_read("rng", c.generator_state, true);  // needed to resume only: checked there
  }
  c.file = file;
  if (optimizer) restore_training_state(c, *optimizer);
  return c;
}

void restore_training_state(const Checkpoint& c, torch::optim::Optimizer& optimizer) {
  if (!c.has_optimizer) throw std::runtime_error(c.file.string() + ": holds no optimizer state; cannot resume from it");
  if (!c.generator_state.defined()) throw std::runtime_error(c.file.string() + ": entry 'rng' missing");
  optimizer.load(*c.optimizer_state);
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(c.generator_state);
}

ThunderNet load_model(const std::filesystem::path& file, ModelInfo* info,
                      const std::function<void(ThunderNetOptions&)>& adjust, bool prefer_ema) {
  auto c = read_checkpoint(file);
  auto options = thundernet_options(c.info);
  if (adjust) adjust(options);
  ThunderNet model(options);
  auto report = vision::load_state_dict(*model, prefer_ema && !c.ema.empty() ? c.ema : c.model, false);
  if (!report.ok())
    throw std::runtime_error(file.string() + ": weights do not fit " + c.info.model + ": " + report.describe());
  model->eval();
  if (info) *info = c.info;
  return model;
}

ThunderNetExecutor inference_model(const ModelInfo& info, const InferenceOptions& inference,
                                   const vision::StateDict& weights, torch::Device device) {
  inference.check();
  auto generator = at::detail::getDefaultCPUGenerator();
  const auto rng = generator.get_state();
  ModelInfo i = info;
  i.inference = inference;
  ThunderNet model(thundernet_options(i));
  generator.set_state(rng);
  auto report = vision::load_state_dict(*model, weights, false);
  if (!report.ok()) throw std::runtime_error("weights do not fit " + info.model + ": " + report.describe());
  model->to(device);
  model->eval();
  return optimize_for_inference(model);
}

InferenceWeights read_inference_weights(const std::filesystem::path& file) {
  auto c = read_checkpoint(file);
  InferenceWeights w;
  w.info = c.info;
  w.weights = c.ema.empty() ? std::move(c.model) : std::move(c.ema);
  return w;
}

ThunderNetExecutor inference_model(const std::filesystem::path& file, const InferenceWeights& weights,
                                   const InferenceOptions& inference) {
  try {
    return inference_model(weights.info, inference, weights.weights);
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

}  // namespace cvtk::detection

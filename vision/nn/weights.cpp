#include "vision/nn/weights.h"

#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace cvtk::vision {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

StateDict state_dict(const torch::nn::Module& module) {
  StateDict out;
  for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

std::string LoadReport::describe(size_t max_each) const {
  std::ostringstream s;
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    s << "\n  " << v.size() << " " << what << ":";
    for (size_t i = 0; i < v.size() && i < max_each; ++i) s << "\n    " << v[i];
    if (v.size() > max_each) s << "\n    ... and " << v.size() - max_each << " more";
  };
  list("missing from the file", missing);
  list("unexpected in the file", unexpected);
  list("with a different shape (file vs model)", mismatched);
  return s.str();
}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& weights, bool strict) {
  std::map<std::string, torch::Tensor> given(weights.begin(), weights.end());
  LoadReport report;
  StateDict own = state_dict(module);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  for (auto& [name, target] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      report.missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back(name + ": " + shape_text(it->second) + " vs " + shape_text(target));
    } else {
      copies.emplace_back(target, it->second);
    }
    given.erase(it);
  }
  for (const auto& [name, t] : given) report.unexpected.push_back(name);
  if (strict && !report.ok()) throw std::runtime_error("weights do not fit the model:" + report.describe());
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) target.copy_(source.to(target.dtype()));
  return report;
}

StateDict read_weights(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open weights file");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + ": not a weights file (expected torch.save of a {name: tensor} dict): " +
                             std::string(e.what()).substr(0, 200));
  }
  if (!value.isGenericDict()) throw std::runtime_error(file.string() + ": expected a {name: tensor} dict");
  StateDict out;
  for (const auto& kv : value.toGenericDict()) {
    if (!kv.key().isString()) throw std::runtime_error(file.string() + ": a key is not a string");
    const std::string name = kv.key().toStringRef();
    if (!kv.value().isTensor()) throw std::runtime_error(file.string() + ": entry '" + name + "' is not a tensor");
    out.emplace_back(name, kv.value().toTensor());
  }
  return out;
}

void write_weights(const StateDict& weights, const fs::path& file) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, t] : weights) dict.insert(name, t.detach().cpu().contiguous());
  const std::vector<char> bytes = torch::pickle_save(dict);
  std::error_code ec;
  if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error(file.string() + ": cannot write weights");
  }
  fs::rename(tmp, file);
}

void save_weights(const torch::nn::Module& module, const fs::path& file) { write_weights(state_dict(module), file); }

LoadReport load_weights(torch::nn::Module& module, const fs::path& file, bool strict) {
  try {
    return load_state_dict(module, read_weights(file), strict);
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.rfind(file.string(), 0) == 0) throw;
    throw std::runtime_error(file.string() + ": " + what);
  }
}

}  // namespace cvtk::vision

#pragma once
// The one question every eval-only fast path asks first: would autograd record an op on these
// tensors? (Grad mode on and any of them requiring grad; undefined tensors count as not.) Fast paths
// that write raw memory or reuse cached tensors must step aside when it would.
#include <c10/core/GradMode.h>

#include <initializer_list>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace cvtk::vision {

inline bool tracked(std::initializer_list<torch::Tensor> tensors) {
  if (!c10::GradMode::is_enabled()) return false;
  for (const auto& t : tensors)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

// The same question for a module's forward on x: x or any of the module's parameters. This is the
// rule every module's eval-only path (folded BatchNorms, fused units, prepared blocks) applies before
// it runs: where autograd would record, the plain forward runs instead, so gradients reach the
// parameters exactly as in the unprepared model. Free under NoGradGuard / InferenceMode.
inline bool tracked(const torch::nn::Module& module, const torch::Tensor& x) {
  if (!c10::GradMode::is_enabled()) return false;
  if (x.defined() && x.requires_grad()) return true;
  for (const auto& p : module.parameters())
    if (p.requires_grad()) return true;
  return false;
}

}  // namespace cvtk::vision

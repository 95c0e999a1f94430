#pragma once
// The one question every eval-only fast path asks first: would autograd record an op on these
// tensors? (Grad mode on and any of them requiring grad; undefined tensors count as not.) Fast paths
// that write raw memory or reuse cached tensors must step aside when it would.
#include <c10/core/GradMode.h>

#include <initializer_list>

#include <torch/types.h>

namespace cvtk::vision {

inline bool tracked(std::initializer_list<torch::Tensor> tensors) {
  if (!c10::GradMode::is_enabled()) return false;
  for (const auto& t : tensors)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

}  // namespace cvtk::vision

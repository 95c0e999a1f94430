#pragma once
// The explicit list of transforms a pipeline spec can name (augment/registry.cpp).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

struct TransformInfo {
  std::string name;
  Transform::Kind kind;
  std::string summary;  // one line for `cvtk augment list`
  std::string example;  // a spec token with typical arguments, used by tests and the list
  std::function<std::shared_ptr<const Transform>(const SpecArgs&)> make;
};

const std::vector<TransformInfo>& transform_registry();

// Builds the transform a parsed token names; std::invalid_argument quoting the token when unknown.
std::shared_ptr<const Transform> make_transform(const SpecArgs& args);

}  // namespace cvtk::augment

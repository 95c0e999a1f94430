#include "augment/transform.h"

#include <cstdio>

namespace cvtk::augment {

const char* kind_name(Transform::Kind kind) {
  switch (kind) {
    case Transform::Kind::photometric:
      return "photometric";
    case Transform::Kind::geometric:
      return "geometric";
    case Transform::Kind::occluding:
      return "occluding";
    case Transform::Kind::output:
      return "output";
  }
  return "?";
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);  // describe() lines stay short
  return buf;
}

}  // namespace cvtk::augment

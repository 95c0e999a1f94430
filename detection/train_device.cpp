#include "detection/train_device.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/torch.h>

#include <optional>
#include <stdexcept>

namespace cvtk::detection {

torch::Device parse_train_device(const std::string& value) {
  auto fail = [&](const std::string& why) { return std::invalid_argument("--device " + value + ": " + why); };
  std::optional<torch::Device> parsed;
  try {
    parsed.emplace(value);
  } catch (const c10::Error&) {
    throw fail("not a device; use cpu, or cuda / cuda:N where LibTorch has CUDA");
  }
  const torch::Device device = *parsed;
  if (device.is_cpu()) return device;
  if (device.is_meta()) throw fail("meta tensors hold no data; use cpu, or cuda where LibTorch has CUDA");
  const std::string type = c10::DeviceTypeName(device.type(), /*lower_case=*/false);
  // A device type's guard is registered by the library that implements it (libtorch_cuda.so for CUDA), so
  // its absence means this LibTorch was built without it, not that the machine lacks the hardware.
  if (!c10::impl::hasDeviceGuardImpl(device.type()))
    throw fail("this LibTorch was built without " + type + "; use --device cpu");
  const int64_t count = c10::impl::getDeviceGuardImpl(device.type())->deviceCount();
  if (count == 0) throw fail("this LibTorch has " + type + " but sees no " + type + " device");
  if (device.has_index() && device.index() >= count)
    throw fail("only " + std::to_string(count) + " " + type + " device(s) visible, numbered from 0");
  try {
    torch::empty({1}, torch::TensorOptions().device(device));
  } catch (const c10::Error& e) {
    throw fail("cannot allocate a tensor there: " + std::string(e.what_without_backtrace()));
  }
  return device;
}

}  // namespace cvtk::detection

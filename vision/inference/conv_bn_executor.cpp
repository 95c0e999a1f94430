// The Inception v3 / GoogLeNet executor: a private eval-mode copy of the network whose conv-BN-ReLU
// units run folded (one convolution with the BatchNorm in its weights, ChannelsLast, 1x1 layers as
// matrix products) on ChannelsLast inputs. The copy keeps the topology in one place, the model's own
// forward; only the units it is made of are swapped, as fusing modules does elsewhere.
#include <ATen/CPUGeneratorImpl.h>

#include "vision/backbones/googlenet.h"
#include "vision/backbones/inception_v3.h"
#include "vision/inference/families.h"
#include "vision/nn/blocks.h"

namespace cvtk::vision {
namespace {

class ConvBnExecutor final : public BackboneExecutor {
 public:
  ConvBnExecutor(Backbone module, Backbone copy) : BackboneExecutor(std::move(module)), copy_(std::move(copy)) {
    copy_->eval();
    for (auto& p : copy_->parameters()) p.set_requires_grad(false);
  }

 protected:
  void build() override {
    const auto source = module()->named_parameters(), target = copy_->named_parameters();
    for (const auto& p : source) target[p.key()].set_data(p.value().detach().clone());
    const auto source_buffers = module()->named_buffers(), target_buffers = copy_->named_buffers();
    for (const auto& b : source_buffers) target_buffers[b.key()].set_data(b.value().detach().clone());
    for (const auto& m : copy_->modules(/*include_self=*/false))
      if (auto* unit = dynamic_cast<ConvBnReluImpl*>(m.get())) {
        auto folded = std::make_shared<FoldedConv>(*unit->conv, *unit->bn, /*relu=*/true);
        unit->replace_for_inference([folded](const torch::Tensor& x) { return folded->forward(x); });
      }
  }

  FeatureMaps run_features(const torch::Tensor& x) override { return copy_->features(channels_last(x)); }
  torch::Tensor run_forward(const torch::Tensor& x) override { return copy_->forward(channels_last(x)); }

 private:
  static torch::Tensor channels_last(const torch::Tensor& x) {
    return x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
  }
  Backbone copy_;
};

// A new network of the same kind and options, built without moving the global random stream (the
// weights are overwritten by build() anyway).
template <typename Impl>
Backbone same_network(const Impl& net) {
  auto generator = at::detail::getDefaultCPUGenerator();
  const auto state = generator.get_state();
  Backbone copy = std::make_shared<Impl>(net.options());
  generator.set_state(state);
  return copy;
}

}  // namespace

std::unique_ptr<BackboneExecutor> conv_bn_executor(const Backbone& backbone) {
  if (auto net = std::dynamic_pointer_cast<InceptionV3Impl>(backbone))
    return std::make_unique<ConvBnExecutor>(backbone, same_network(*net));
  if (auto net = std::dynamic_pointer_cast<GoogLeNetImpl>(backbone))
    return std::make_unique<ConvBnExecutor>(backbone, same_network(*net));
  return nullptr;
}

}  // namespace cvtk::vision

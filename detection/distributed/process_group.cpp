#include "detection/distributed/process_group.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace cvtk::detection::distributed {

struct ProcessGroup::Pending {
  c10::intrusive_ptr<c10d::Work> work;
  torch::Tensor tensor;  // kept alive while the collective runs
};

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;  // the TCPStore, for failure records
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  bool failed = false;
  bool nccl = false;
};

namespace {

constexpr auto kFailurePoll = std::chrono::seconds(3);  // how long survivors wait to hear from each other

// One line of a library error, without c10's backtrace, shortened.
std::string short_text(const std::exception& e) {
  std::string s = e.what();
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) s = c->what_without_backtrace();
  s = s.substr(0, s.find('\n'));
  if (s.size() > 160) s = s.substr(0, 157) + "...";
  return s;
}

bool is_loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0; }

std::shared_ptr<::gloo::transport::Device> gloo_device(const World& w) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  // Every local rank reaches the others on loopback; across machines, this machine's resolved address.
  if (is_loopback(w.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

ProcessGroup::ProcessGroup(const World& world, std::chrono::milliseconds timeout, bool cuda)
    : world_(world), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  const std::string where = world.master_addr + ":" + std::to_string(world.master_port);
  try {
    c10d::TCPStoreOptions so;
    so.port = world.master_port;
    so.isServer = world.rank == 0;
    so.numWorkers = size_t(world.size);
    so.waitWorkers = true;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, so);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(world.rank) + ": rendezvous at " + where + " failed within " +
                           std::to_string(timeout.count() / 1000) + " s (" +
                           (world.rank == 0 ? std::string("not every rank joined") : "rank 0 unreachable") +
                           "): " + short_text(e));
  }
  connect("cvtk/pg", cuda);
}

ProcessGroup::ProcessGroup(const ProcessGroup& base, const std::string& name)
    : world_(base.world_), timeout_(base.timeout_), impl_(std::make_unique<Impl>()) {
  impl_->store = base.impl_->store;
  connect("cvtk/" + name, base.impl_->nccl);
}

void ProcessGroup::connect(const std::string& prefix, bool cuda) {
  const World& world = world_;
  const auto timeout = timeout_;
  try {
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>(prefix, impl_->store);
    if (cuda) {
#ifdef USE_C10D_NCCL
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, world.rank, world.size, o);
      impl_->nccl = true;
#else
      throw std::invalid_argument("this LibTorch has no NCCL process group");
#endif
    } else {
      auto o = c10d::ProcessGroupGloo::Options::create(timeout);
      o->devices.push_back(gloo_device(world));
      o->threads = 2;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world.rank, world.size, o);
    }
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    fail("connecting the process group", e);
  }
}

ProcessGroup::~ProcessGroup() {
  if (!impl_->failed) return;
  // A failed group may still have a collective waiting on a hung peer: leave it (and the store it
  // uses) to the end of the process instead of joining its threads here.
  impl_->group.release();
  impl_->store.release();
}

std::string ProcessGroup::backend() const { return impl_->nccl ? "nccl" : "gloo"; }

void ProcessGroup::fail(const std::string& operation, const std::exception& e) {
  impl_->failed = true;
  const std::string me = std::to_string(world_.rank), of = " of " + std::to_string(world_.size);
  std::string blamed;
  try {
    impl_->store->set("cvtk/failed/" + me, std::vector<uint8_t>{1});
    // The ranks still alive meet the same failure within the collective's timeout and record
    // themselves; the ones that never do are the dead or hung ones.
    std::vector<int> missing;
    const auto until = std::chrono::steady_clock::now() + kFailurePoll;
    do {
      missing.clear();
      for (int r = 0; r < world_.size; ++r)
        if (r != world_.rank && !impl_->store->check({"cvtk/failed/" + std::to_string(r)})) missing.push_back(r);
      if (missing.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < until);
    for (int r : missing) blamed += (blamed.empty() ? "rank " : ", rank ") + std::to_string(r);
    blamed = missing.empty() ? "every rank reports the failure" : blamed + of + " is gone or hung";
  } catch (const std::exception&) {
    blamed = "rank 0" + of + " (it hosts the rendezvous store) is gone";
  }
  throw DistributedError("distributed training stopped on rank " + me + ": " + blamed + " (" + operation +
                         " failed: " + short_text(e) + ")");
}

ProcessGroup::Handle ProcessGroup::allreduce_sum_async(const torch::Tensor& t) {
  auto p = std::make_shared<Pending>();
  p->tensor = t;
  try {
    std::vector<at::Tensor> v{t};
    p->work = impl_->group->allreduce(v);
  } catch (const std::exception& e) {
    fail("all-reduce", e);
  }
  return p;
}

void ProcessGroup::wait(const Handle& p) {
  try {
    p->work->wait();
  } catch (const std::exception& e) {
    fail("all-reduce", e);
  }
}

void ProcessGroup::allreduce_max(const torch::Tensor& t) {
  try {
    std::vector<at::Tensor> v{t};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::MAX;
    impl_->group->allreduce(v, o)->wait();
  } catch (const std::exception& e) {
    fail("all-reduce", e);
  }
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  // One buffer per dtype: a state dict has hundreds of small tensors.
  std::vector<c10::ScalarType> types;
  for (const auto& t : tensors)
    if (std::find(types.begin(), types.end(), t.scalar_type()) == types.end()) types.push_back(t.scalar_type());
  for (auto type : types) {
    std::vector<torch::Tensor> parts;
    for (const auto& t : tensors)
      if (t.scalar_type() == type) parts.push_back(t.detach().reshape({-1}));
    std::vector<at::Tensor> flat{torch::cat(parts)};
    try {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      impl_->group->broadcast(flat, o)->wait();
    } catch (const std::exception& e) {
      fail("broadcast", e);
    }
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (const auto& t : tensors) {
      if (t.scalar_type() != type) continue;
      t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

std::string ProcessGroup::broadcast_string(const std::string& s, int root) {
  auto length = torch::full({1}, int64_t(s.size()), torch::kInt64);
  broadcast({length}, root);
  auto bytes = torch::zeros({std::max<int64_t>(length.item<int64_t>(), 1)}, torch::kUInt8);
  if (world_.rank == root) std::memcpy(bytes.data_ptr<uint8_t>(), s.data(), s.size());
  broadcast({bytes}, root);
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), size_t(length.item<int64_t>()));
}

void ProcessGroup::barrier() {
  try {
    impl_->group->barrier()->wait();
  } catch (const std::exception& e) {
    fail("barrier", e);
  }
}

}  // namespace cvtk::detection::distributed

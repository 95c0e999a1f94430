// Data-parallel training (detection/distributed/): the sharded sampler, W processes against one
// process with the global batch (with synchronised BatchNorm) and against gradients averaged by hand
// (without), sharded validation against one process's, and a rank killed or hung mid-run.
//
// Multi-process cases run real processes: `cvtk train --nproc 2`, ranks started with the torchrun
// environment, or this test binary re-run as a rank (DistributedWorker.*, which does nothing unless
// CVTK_TEST_WORKER is set). Every child runs under coreutils' `timeout` or is killed by the test, so
// nothing can hang.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "detection/checkpoint.h"
#include "detection/distributed/data_parallel.h"
#include "detection/distributed/launcher.h"
#include "detection/distributed/sharded_sampler.h"
#include "detection/distributed/sync_batchnorm.h"
#include "detection/train_optimizer.h"
#include "detection/train_session.h"
#include "detection/train_validation.h"
#include "tests/common.h"
#include "vision/data/dataset_io.h"
#include "vision/data/synth.h"

using namespace cvtk;
using namespace cvtk::detection;
namespace fs = std::filesystem;

namespace {

constexpr int kChildTimeout = 300;  // seconds any child process may run

// 12 training and 6 validation images of 160x128 (per test process: ctest runs tests in parallel).
fs::path tiny_dataset() {
  static fs::path dir;
  if (const char* given = std::getenv("CVTK_TEST_DATASET"); given && dir.empty()) dir = given;  // a worker rank
  if (dir.empty()) {
    dir = cvtk::testing::process_scratch_dir("dist_shapes") / "shapes";
    data::SynthOptions o;
    o.train_images = 12;
    o.val_images = 6;
    o.width = 160;
    o.height = 128;
    o.max_size = 56;
    o.seed = 5;
    data::write_synthetic_dataset(dir, o);
  }
  return dir;
}

// Flags of a short run: 1 thread per process, no EMA, few RoIs per image (so every image samples
// exactly its quota and a rank's mean loss weighs its images as the global batch's does).
std::string run_flags(const fs::path& out, int batch, double lr, int steps, int epochs = 1, int size = 128) {
  return " train --data " + cvtk::testing::quoted(tiny_dataset()) + " --epochs " + std::to_string(epochs) +
         " --batch " + std::to_string(batch) + " --size " + std::to_string(size) + " --lr " + std::to_string(lr) +
         " --warmup 1 --rcnn-rois 16 --threads 1 --loader-threads 1 --val-split none --max-steps " +
         std::to_string(steps) + " --seed 7 --out " + cvtk::testing::quoted(out) + " --log-every 1000";
}

// Runs a shell command under `timeout`; its exit code (124 when it timed out).
int run(const std::string& command, const fs::path& log) {
  const std::string line =
      "timeout -k 5 " + std::to_string(kChildTimeout) + " " + command + " >" + cvtk::testing::quoted(log) + " 2>&1";
  const int status = std::system(line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string cvtk_command() { return cvtk::testing::quoted(cvtk::testing::cvtk_binary()); }

// Largest |a - b| over the tensors of two state dicts (names and shapes must agree), and where.
std::pair<double, std::string> max_difference(const vision::StateDict& a, const vision::StateDict& b) {
  EXPECT_EQ(a.size(), b.size());
  std::pair<double, std::string> worst{0, ""};
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    if (a[i].second.sizes() != b[i].second.sizes()) return {HUGE_VAL, a[i].first};
    const double d = (a[i].second.to(torch::kDouble) - b[i].second.to(torch::kDouble)).abs().max().item<double>();
    if (d > worst.first) worst = {d, a[i].first};
  }
  return worst;
}

bool any_change(const vision::StateDict& a, const vision::StateDict& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i].second, b[i].second)) return true;
  return false;
}

// Starts argv[0] (a path) with extra environment entries, output to `log`; returns its pid. Callers
// reap it with wait_exit, which kills it when it overstays.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const fs::path& log) {
  std::vector<std::string> all = argv;
  std::vector<char*> args;
  for (auto& a : all) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> envs = env;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log_path = log.string();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log_path.c_str(), "w", stdout);
    if (f) dup2(fileno(stdout), 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

std::vector<std::string> rank_env(int rank, int world, int port) {
  return {"RANK=" + std::to_string(rank),
          "WORLD_SIZE=" + std::to_string(world),
          "LOCAL_RANK=" + std::to_string(rank),
          "LOCAL_WORLD_SIZE=" + std::to_string(world),
          "MASTER_ADDR=127.0.0.1",
          "MASTER_PORT=" + std::to_string(port)};
}

// Waits for pid up to `seconds`; its exit code, 128 + signal, or -1 when still running (then killed).
int wait_exit(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace

TEST(ShardedSampler, ShardsPartitionTheGlobalBatchesOfOneProcess) {
  distributed::ShardOptions o{23, 3, 0, 2, 11};
  EXPECT_EQ(distributed::global_batches(o), 3u);  // 23 / (3 x 2); the incomplete rest is dropped
  const auto single = augment::epoch_order(23, 11, 4, true);
  std::vector<std::vector<size_t>> shards;
  for (int r = 0; r < 2; ++r) {
    o.rank = r;
    shards.push_back(distributed::shard_of_epoch(o, 4));
    EXPECT_EQ(shards.back(), distributed::shard_of_epoch(o, 4));  // deterministic
    EXPECT_EQ(shards.back().size(), 9u);
  }
  for (size_t g = 0; g < 3; ++g) {
    std::multiset<size_t> global(single.begin() + long(g * 6), single.begin() + long(g * 6 + 6)), both;
    for (int r = 0; r < 2; ++r)
      both.insert(shards[size_t(r)].begin() + long(g * 3), shards[size_t(r)].begin() + long(g * 3 + 3));
    EXPECT_EQ(both, global) << "global batch " << g;
  }
  o.rank = 0;
  EXPECT_NE(distributed::shard_of_epoch(o, 5), shards[0]);  // another epoch, another permutation
  o.records = 5;
  EXPECT_THROW(distributed::global_batches(o), std::invalid_argument);
  // Validation: whole batches round-robin; 7 images in batches of 2 over 2 ranks.
  EXPECT_EQ(distributed::validation_shard(7, 2, 0, 2), (std::vector<size_t>{0, 1, 4, 5}));
  EXPECT_EQ(distributed::validation_shard(7, 2, 1, 2), (std::vector<size_t>{2, 3, 6}));
}

TEST(DistributedWorld, ThreadsPerProcessShareTheCores) {
  EXPECT_EQ(distributed::threads_per_process(0, 16, 4), 4);
  EXPECT_EQ(distributed::threads_per_process(0, 2, 4), 1);
  EXPECT_EQ(distributed::threads_per_process(3, 16, 4), 3);
}

namespace {

// The options run_flags gives the command line, for sessions built in this process.
TrainOptions session_options(int batch, double lr) {
  TrainOptions o;
  o.data = tiny_dataset();
  o.epochs = 1;
  o.batch = batch;
  o.size = 128;
  o.schedule.base = lr;
  o.schedule.warmup_steps = 1;
  o.rcnn_rois = 16;
  o.threads = 1;
  o.loader_threads = 1;
  o.val_split = "none";
  o.seed = 7;
  return o;
}

// One optimiser step of a session on its next batch; `dp` (a world of one) runs its BatchNorms
// through the synchronised path. Returns the parameters' gradients before the step.
std::vector<torch::Tensor> backward_on_next_batch(TrainSession& s, long step, distributed::DataParallel* dp) {
  auto batch = s.loader->next();
  EXPECT_TRUE(batch);
  if (!batch) return {};
  set_lr(*s.optimizer, s.schedule->at(step));
  s.optimizer->zero_grad();
  torch::Tensor loss;
  {
    distributed::SyncBatchNormScope scope(dp);
    loss = s.model->forward_train(batch->images, training_targets(*batch, torch::kCPU, s.options.seed, step)).total();
  }
  loss.backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : s.model->parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return grads;
}

vision::StateDict cloned(const vision::StateDict& d) {
  vision::StateDict c;
  for (const auto& [name, t] : d) c.emplace_back(name, t.clone());
  return c;
}

}  // namespace

// 2 processes x batch 2 with --sync-bn train what 1 process with batch 4 trains (lr scaled by the
// rule), to float rounding. The reference is that process with its BatchNorms on the same arithmetic
// (a world of one; SyncBatchNorm.OneRankEqualsBatchNorm checks it against plain BatchNorm), and one
// step: the weight gradients of 2 + 2 images and of 4 are sums grouped differently (about 1e-8 apart
// here), and on a model this young the RPN's scores are nearly tied, so from the second step such
// noise reorders proposals and the runs drift apart by more than rounding (5e-3 after two steps,
// measured). Rounding-free equality over several steps is the job of the test below.
TEST(DataParallelTrain, TwoProcessesWithSyncBatchNormEqualOneWithTheGlobalBatch) {
  const auto dir = cvtk::testing::scratch_dir("dist_syncbn");
  const int steps = 1;
  ASSERT_EQ(run(cvtk_command() + run_flags(dir / "two", 2, 0.01, steps) + " --sync-bn --nproc 2", dir / "two.log"), 0)
      << cvtk::testing::read_file(dir / "two.log");
  const auto log = cvtk::testing::read_file(dir / "two.log");
  EXPECT_NE(log.find("global batch 2 x 2 = 4; lr 0.01 x 2 = 0.02"), std::string::npos) << log;
  EXPECT_NE(log.find("all-reduced per step"), std::string::npos) << log;
  const auto two = read_checkpoint(dir / "two" / "last.pt");
  EXPECT_EQ(two.state.step, steps);
  EXPECT_EQ(two.state.world_size, 2);

  distributed::World alone;
  alone.master_port = uint16_t(distributed::free_local_port());
  distributed::DataParallel dp(alone, std::chrono::seconds(60), false, true);
  std::FILE* quiet = std::tmpfile();
  TrainSession one(session_options(4, 0.02), quiet);
  const auto initial = cloned(vision::state_dict(*one.model));
  one.model->train();
  one.loader->start_epoch(0);
  for (long step = 0; step < steps; ++step) {
    backward_on_next_batch(one, step, &dp);
    one.optimizer->step();
  }
  std::fclose(quiet);
  const auto reference = vision::state_dict(*one.model);
  EXPECT_TRUE(any_change(initial, reference));
  // Parameters and BatchNorm statistics alike.
  const auto [difference, where] = max_difference(reference, two.model);
  EXPECT_LT(difference, 1e-6) << where;
}

// Without --sync-bn each rank normalises with its own shard: the reference is two single-process
// sessions (ranks 0 and 1 of 2: their shards, their models) whose gradients are averaged by hand.
TEST(DataParallelTrain, TwoProcessesEqualGradientsAveragedByHand) {
  const auto dir = cvtk::testing::scratch_dir("dist_plain");
  const int steps = 3;
  ASSERT_EQ(run(cvtk_command() + run_flags(dir / "two", 2, 0.01, steps) + " --nproc 2", dir / "two.log"), 0)
      << cvtk::testing::read_file(dir / "two.log");
  const auto two = read_checkpoint(dir / "two" / "last.pt");

  std::FILE* quiet = std::tmpfile();
  std::vector<std::unique_ptr<TrainSession>> ranks;
  for (int r = 0; r < 2; ++r) {
    distributed::World w;
    w.rank = r;
    w.size = 2;
    w.local_rank = r;
    w.local_size = 2;
    ranks.push_back(std::make_unique<TrainSession>(session_options(2, 0.01), quiet, w));
  }
  const auto initial = cloned(vision::state_dict(*ranks[0]->model));
  for (auto& s : ranks) {
    s->model->train();
    s->loader->start_epoch(0);
  }
  for (long step = 0; step < steps; ++step) {
    std::vector<std::vector<torch::Tensor>> grads;
    for (auto& s : ranks) grads.push_back(backward_on_next_batch(*s, step, nullptr));
    for (auto& s : ranks) {
      auto params = s->model->parameters();
      for (size_t k = 0; k < params.size(); ++k)
        if (params[k].grad().defined()) params[k].mutable_grad().copy_((grads[0][k] + grads[1][k]) / 2);
      s->optimizer->step();
    }
  }
  std::fclose(quiet);
  const auto reference = vision::state_dict(*ranks[0]->model);  // rank 0's, BatchNorm statistics included
  EXPECT_TRUE(any_change(initial, reference));
  const auto [difference, where] = max_difference(reference, two.model);
  // The same operations on the same shards: equal to the last bit on this machine (kept to a
  // rounding tolerance for other kernels).
  EXPECT_LT(difference, 1e-6) << where;
}

// This binary re-run as one rank: sharded validation of a checkpoint, the figures to a file.
TEST(DistributedWorker, ShardedValidation) {
  const char* out = std::getenv("CVTK_TEST_WORKER");
  if (!out) GTEST_SKIP() << "runs only as a rank started by DataParallelValidation";
  const auto weights = read_inference_weights(std::getenv("CVTK_TEST_CHECKPOINT"));
  data::ReadOptions ro;
  ro.split = "val";
  const auto val = data::read_dataset(tiny_dataset(), ro);
  distributed::ProcessGroup group(distributed::world_from_environment(), std::chrono::seconds(60));
  const auto v = validate(weights.info, weights.weights, val, 2, 1, torch::kCPU, &group);
  if (group.rank() == 0) {
    std::ofstream f(out);
    f.precision(17);
    f << v.map50 << " " << v.voc07 << " " << v.coco_ap << " " << v.coco_ap50 << "\n";
  }
  group.barrier();
}

TEST(DataParallelValidation, ShardedValidationEqualsOneProcessExactly) {
  const auto dir = cvtk::testing::scratch_dir("dist_val");
  // A checkpoint that detects something: a short single-process run.
  ASSERT_EQ(run(cvtk_command() + run_flags(dir / "run", 4, 0.02, 12, 4), dir / "run.log"), 0)
      << cvtk::testing::read_file(dir / "run.log");
  const auto checkpoint = dir / "run" / "last.pt";
  const int port = distributed::free_local_port();
  std::vector<pid_t> pids;
  for (int r = 0; r < 2; ++r) {
    auto env = rank_env(r, 2, port);
    env.push_back("CVTK_TEST_WORKER=" + (dir / "figures.txt").string());
    env.push_back("CVTK_TEST_CHECKPOINT=" + checkpoint.string());
    // The dataset is per test process: the workers read this one's.
    env.push_back("CVTK_TEST_DATASET=" + tiny_dataset().string());
    pids.push_back(
        spawn({fs::read_symlink("/proc/self/exe").string(), "--gtest_filter=DistributedWorker.ShardedValidation"}, env,
              dir / ("rank" + std::to_string(r) + ".log")));
  }
  for (int r = 0; r < 2; ++r)
    EXPECT_EQ(wait_exit(pids[size_t(r)], kChildTimeout), 0)
        << cvtk::testing::read_file(dir / ("rank" + std::to_string(r) + ".log"));
  std::ifstream in(dir / "figures.txt");
  Validation sharded;
  ASSERT_TRUE(in >> sharded.map50 >> sharded.voc07 >> sharded.coco_ap >> sharded.coco_ap50);
  const auto weights = read_inference_weights(checkpoint);
  data::ReadOptions ro;
  ro.split = "val";
  const auto single =
      validate(weights.info, weights.weights, data::read_dataset(tiny_dataset(), ro), 2, 1, torch::kCPU);
  EXPECT_GT(single.map50, 0);  // the comparison means something
  EXPECT_EQ(sharded.map50, single.map50);
  EXPECT_EQ(sharded.voc07, single.voc07);
  EXPECT_EQ(sharded.coco_ap, single.coco_ap);
  EXPECT_EQ(sharded.coco_ap50, single.coco_ap50);
}

namespace {

// Starts 2 ranks of a long run torchrun-style, waits until rank 0 has written last.pt and trained on
// into the next epoch, then applies `fault` to rank 1. Returns rank 0's exit code and its log.
std::pair<int, std::string> fault_run(const fs::path& dir, int fault_signal, int timeout_s) {
  const int port = distributed::free_local_port();
  std::vector<pid_t> pids;
  for (int r = 0; r < 2; ++r)
    pids.push_back(spawn({cvtk::testing::cvtk_binary().string(),
                          "train",
                          "--data",
                          tiny_dataset().string(),
                          "--epochs",
                          "50",
                          "--batch",
                          "1",
                          "--size",
                          "96",
                          "--rcnn-rois",
                          "16",
                          "--threads",
                          "1",
                          "--loader-threads",
                          "1",
                          "--val-split",
                          "none",
                          "--log-every",
                          "1",
                          "--dist-timeout",
                          std::to_string(timeout_s),
                          "--out",
                          (dir / "run").string()},
                         rank_env(r, 2, port), dir / ("rank" + std::to_string(r) + ".log")));
  // last.pt after the first epoch, then a few steps of the second; a rank that exits before then
  // (a broken build, bad flags) ends the wait at once, with its log.
  for (int i = 0; i < kChildTimeout * 10 && !fs::exists(dir / "run" / "last.pt"); ++i) {
    for (int r = 0; r < 2; ++r) {
      int status = 0;
      if (waitpid(pids[size_t(r)], &status, WNOHANG) != pids[size_t(r)]) continue;
      kill(pids[size_t(1 - r)], SIGKILL);
      wait_exit(pids[size_t(1 - r)], 10);
      ADD_FAILURE() << "rank " << r << " exited before the fault: "
                    << cvtk::testing::read_file(dir / ("rank" + std::to_string(r) + ".log"));
      return {-1, cvtk::testing::read_file(dir / "rank0.log")};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pids[1], fault_signal);
  // The survivor must leave on its own, within the timeout (plus the few seconds it takes to name
  // the rank and load the program); a hung survivor is killed and reported as -1.
  const int code = wait_exit(pids[0], timeout_s + 60);
  kill(pids[1], SIGKILL);
  wait_exit(pids[1], 10);
  return {code, cvtk::testing::read_file(dir / "rank0.log")};
}

void expect_resumable(const fs::path& dir) {
  const auto c = read_checkpoint(dir / "run" / "last.pt");  // intact: it loads
  EXPECT_GE(c.state.epoch, 1);
  EXPECT_EQ(c.state.world_size, 2);
  // Resumes in one process (another world size) for a few steps.
  EXPECT_EQ(run(cvtk_command() + " train --resume " + cvtk::testing::quoted(dir / "run") + " --max-steps " +
                    std::to_string(c.state.step + 2) + " --threads 1",
                dir / "resume.log"),
            0)
      << cvtk::testing::read_file(dir / "resume.log");
  EXPECT_EQ(read_checkpoint(dir / "run" / "last.pt").state.step, c.state.step + 2);
}

}  // namespace

TEST(DataParallelFaults, KilledRankStopsTheOtherNamingIt) {
  const auto dir = cvtk::testing::scratch_dir("dist_kill");
  const auto [code, log] = fault_run(dir, SIGKILL, 60);
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1) << "rank 0 did not exit after rank 1 was killed: " << log;
  EXPECT_NE(log.find("rank 1 of 2 is gone or hung"), std::string::npos) << log;
  expect_resumable(dir);
}

TEST(DataParallelFaults, HungRankTimesOutNamingIt) {
  const auto dir = cvtk::testing::scratch_dir("dist_hang");
  const auto [code, log] = fault_run(dir, SIGSTOP, 5);
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1) << "rank 0 did not time out after rank 1 stopped: " << log;
  EXPECT_NE(log.find("rank 1 of 2 is gone or hung"), std::string::npos) << log;
  expect_resumable(dir);
}

TEST(DataParallelFaults, LauncherNamesADeadWorkerAndStopsTheRest) {
  const auto dir = cvtk::testing::scratch_dir("dist_launcher");
  // Paths without spaces here (the scratch tree), so the flags split on blanks.
  std::string flags = run_flags(dir / "run", 1, 0.01, 0, 50, 96) + " --dist-timeout 60 --nproc 2";
  flags.erase(std::remove(flags.begin(), flags.end(), '\''), flags.end());
  std::vector<std::string> argv;
  {
    std::istringstream words(flags);
    argv.push_back(cvtk::testing::cvtk_binary().string());
    for (std::string w; words >> w;) argv.push_back(w);
  }
  const pid_t parent = spawn(argv, {}, dir / "parent.log");
  // The workers are the parent's children; kill the second once training has started.
  for (int i = 0; i < kChildTimeout * 10 && !fs::exists(dir / "run" / "options.toml"); ++i) {
    int status = 0;
    ASSERT_NE(waitpid(parent, &status, WNOHANG), parent)
        << "the parent exited before training started: " << cvtk::testing::read_file(dir / "parent.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<pid_t> workers;
  for (int i = 0; i < 200 && workers.size() < 2; ++i) {
    workers.clear();
    std::ifstream children("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children");
    for (pid_t p; children >> p;) workers.push_back(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[1], SIGKILL);
  const int code = wait_exit(parent, 120);
  const auto log = cvtk::testing::read_file(dir / "parent.log");
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1) << log;
  EXPECT_NE(log.find("rank 1 of 2 (pid " + std::to_string(workers[1]) + ") was killed by signal 9"), std::string::npos)
      << log;
  for (pid_t w : workers) EXPECT_NE(kill(w, 0), 0) << "worker " << w << " still running";
}

// One rank: synchronised BatchNorm must be plain BatchNorm (output, running statistics, gradients).
TEST(SyncBatchNorm, OneRankEqualsBatchNorm) {
  distributed::World w;
  w.master_port = uint16_t(distributed::free_local_port());
  distributed::DataParallel dp(w, std::chrono::seconds(30), false, true);
  torch::manual_seed(3);
  torch::nn::BatchNorm2d plain(6), synced(6);
  torch::nn::init::uniform_(plain->weight, 0.5, 1.5);
  torch::nn::init::uniform_(plain->bias, -1, 1);
  {
    torch::NoGradGuard no_grad;
    synced->weight.copy_(plain->weight);
    synced->bias.copy_(plain->bias);
  }
  const auto x = torch::randn({4, 6, 5, 7}) * 3 + 1;
  const auto a = x.clone().requires_grad_(), b = x.clone().requires_grad_();
  const auto ya = plain->forward(a);
  torch::Tensor yb;
  {
    distributed::SyncBatchNormScope scope(&dp);
    yb = synced->forward(b);
  }
  EXPECT_LT((ya - yb).abs().max().item<double>(), 1e-5);
  EXPECT_LT((plain->running_mean - synced->running_mean).abs().max().item<double>(), 1e-6);
  EXPECT_LT((plain->running_var - synced->running_var).abs().max().item<double>(), 1e-5);
  const auto g = torch::randn_like(ya);
  (ya * g).sum().backward();
  (yb * g).sum().backward();
  EXPECT_LT((a.grad() - b.grad()).abs().max().item<double>(), 1e-5);
  EXPECT_LT((plain->weight.grad() - synced->weight.grad()).abs().max().item<double>(), 1e-4);
  EXPECT_LT((plain->bias.grad() - synced->bias.grad()).abs().max().item<double>(), 1e-4);
  EXPECT_GT(distributed::sync_batch_norm_calls(), 0);  // the synchronised path ran
}

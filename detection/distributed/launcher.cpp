#include "detection/distributed/launcher.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace cvtk::detection::distributed {

namespace {

// Survivors of a failure exit on their own first: a rank that meets a failed collective spends up to
// 3 s naming the ranks to blame (process_group.cpp), then unwinds, removing a run directory that has
// no checkpoint yet. SIGTERM before that would kill it where it stands (it has no SIGTERM handler).
constexpr auto kGrace = std::chrono::seconds(8);
constexpr auto kKillAfter = std::chrono::seconds(10);  // then SIGTERM; then SIGKILL

std::atomic<int> g_signal{0};
extern "C" void on_signal(int s) { g_signal = s; }

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t start = 0; start < all.size();) {
    const size_t end = all.find('\0', start);
    args.push_back(all.substr(start, end - start));
    start = end == std::string::npos ? all.size() : end + 1;
  }
  if (args.empty()) throw std::runtime_error("/proc/self/cmdline: cannot read this process's command line");
  return args;
}

std::vector<std::string> without_flag(const std::vector<std::string>& args, const std::string& flag) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag) {
      ++i;  // and its value
      continue;
    }
    if (args[i].rfind(flag + "=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

std::string how_it_ended(int status) {
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

struct Worker {
  pid_t pid = -1;
  bool running = true;
  int status = 0;
};

void signal_all(std::vector<Worker>& workers, int sig) {
  for (auto& w : workers)
    if (w.running) kill(w.pid, sig);
}

// Reaps what has exited; returns the index of a worker that failed, or -1.
int reap(std::vector<Worker>& workers) {
  int failed = -1;
  for (size_t r = 0; r < workers.size(); ++r) {
    auto& w = workers[r];
    if (!w.running) continue;
    int status = 0;
    if (waitpid(w.pid, &status, WNOHANG) != w.pid) continue;
    w.running = false;
    w.status = status;
    const bool ok = WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 130);
    if (!ok && failed < 0) failed = int(r);
  }
  return failed;
}

bool any_running(const std::vector<Worker>& workers) {
  for (const auto& w : workers)
    if (w.running) return true;
  return false;
}

// Waits until every worker has exited, escalating to SIGTERM and SIGKILL after the given delays.
void wait_all(std::vector<Worker>& workers, std::chrono::seconds term_after) {
  const auto start = std::chrono::steady_clock::now();
  bool termed = false, killed = false;
  while (any_running(workers)) {
    reap(workers);
    const auto waited = std::chrono::steady_clock::now() - start;
    if (!termed && waited > term_after) signal_all(workers, SIGTERM), termed = true;
    if (!killed && waited > term_after + kKillAfter) signal_all(workers, SIGKILL), killed = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("--nproc: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  close(fd);
  if (!ok) throw std::runtime_error(std::string("--nproc: cannot find a free local port: ") + std::strerror(errno));
  return ntohs(a.sin_port);
}

int launch_local_workers(int nproc, const std::string& flag, std::FILE* err) {
  if (nproc < 1) throw std::invalid_argument(flag + " " + std::to_string(nproc) + ": must be at least 1");
  const auto args = without_flag(own_command_line(), flag);
  const char* port_env = std::getenv("MASTER_PORT");
  const std::string port = port_env && *port_env ? port_env : std::to_string(free_local_port());
  // Everything the child needs is built before fork: between fork and exec only exec itself runs.
  std::vector<std::vector<std::string>> envs(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e, key = kv.substr(0, kv.find('='));
      if (key != "RANK" && key != "WORLD_SIZE" && key != "LOCAL_RANK" && key != "LOCAL_WORLD_SIZE" &&
          key != "MASTER_ADDR" && key != "MASTER_PORT")
        envs[size_t(r)].push_back(kv);
    }
    for (const auto& kv :
         {"RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(nproc), "LOCAL_RANK=" + std::to_string(r),
          "LOCAL_WORLD_SIZE=" + std::to_string(nproc), std::string("MASTER_ADDR=127.0.0.1"), "MASTER_PORT=" + port})
      envs[size_t(r)].push_back(kv);
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  auto previous_int = signal(SIGINT, on_signal), previous_term = signal(SIGTERM, on_signal);
  g_signal = 0;
  std::vector<Worker> workers(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    std::vector<char*> envp;
    for (const auto& kv : envs[size_t(r)]) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      // A worker whose launcher dies (killed, say) is told to stop rather than train on alone.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      execve("/proc/self/exe", argv.data(), envp.data());
      _exit(127);
    }
    if (pid < 0) {
      std::fprintf(err, "cvtk: error: %s %d: cannot start rank %d: %s\n", flag.c_str(), nproc, r, std::strerror(errno));
      workers.resize(size_t(r));
      signal_all(workers, SIGTERM);
      wait_all(workers, std::chrono::seconds(0));
      signal(SIGINT, previous_int), signal(SIGTERM, previous_term);
      return 2;
    }
    workers[size_t(r)].pid = pid;
  }
  int code = 0;
  bool forwarded = false;
  while (any_running(workers)) {
    const int failed = reap(workers);
    if (failed >= 0) {
      std::fprintf(err, "cvtk: error: rank %d of %d (pid %d) %s; stopping the other ranks\n", failed, nproc,
                   int(workers[size_t(failed)].pid), how_it_ended(workers[size_t(failed)].status).c_str());
      std::fflush(err);
      wait_all(workers, kGrace);
      code = 2;
      break;
    }
    // Ctrl-C reaches the workers through the terminal's process group, so SIGINT is not sent twice;
    // SIGTERM sent to this process alone is passed on.
    if (g_signal == SIGTERM && !forwarded) signal_all(workers, SIGTERM), forwarded = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (code == 0)
    for (const auto& w : workers)
      if (WIFEXITED(w.status) && WEXITSTATUS(w.status) == 130) code = 130;
  signal(SIGINT, previous_int);
  signal(SIGTERM, previous_term);
  return code;
}

}  // namespace cvtk::detection::distributed

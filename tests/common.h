#pragma once
// Helpers shared by the test binaries: where ../shared and the cvtk binary are, scratch directories.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>

#include <unistd.h>

namespace cvtk::testing {

// ../shared beside the checkout (or $CVTK_SHARED), when present.
inline std::optional<std::filesystem::path> shared_dir() {
  if (const char* env = std::getenv("CVTK_SHARED"); env && *env) {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  std::filesystem::path p = CVTK_SHARED_DEFAULT;
  if (std::filesystem::is_directory(p)) return p;
  return std::nullopt;
}

inline std::filesystem::path source_dir() { return CVTK_SOURCE_DIR; }
inline std::filesystem::path binary_dir() { return CVTK_BINARY_DIR; }
inline std::filesystem::path cvtk_binary() { return binary_dir() / "apps" / "cvtk"; }

// A fresh directory under the build tree, removed and recreated for each call.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto p = binary_dir() / "test_scratch" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// A fresh scratch directory for state one test process shares between its tests (a suite fixture, a
// function-local static). CTest runs every test as its own process, several at once, so such a
// directory carries the process id: two processes never remove each other's.
inline std::filesystem::path process_scratch_dir(const std::string& name) {
  return scratch_dir(name + "_" + std::to_string(::getpid()));
}

// Writes text to p (binary, as given), creating its directories.
inline void write_text(const std::filesystem::path& p, const std::string& text) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// The whole file as bytes ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Calls fn(0), ..., fn(n - 1) on two threads, each index once. For corpora of command-line cases,
// where most of a case is the program loading, so two at a time halves the wall time.
inline void for_each_on_two_threads(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) fn(i);
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
}

// A path quoted for a shell command line (paths with single quotes are not supported).
inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

}  // namespace cvtk::testing

// Skips the current test when ../shared is absent, saying so.
#define CVTK_REQUIRE_SHARED(var)                                                     \
  auto var##_opt = ::cvtk::testing::shared_dir();                                    \
  if (!var##_opt) GTEST_SKIP() << "../shared not found (set CVTK_SHARED): skipping"; \
  const std::filesystem::path var = *var##_opt

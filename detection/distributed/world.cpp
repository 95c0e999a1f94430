#include "detection/distributed/world.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace cvtk::detection::distributed {

namespace {

// The variable as an integer within [lo, hi]; `fallback` when unset.
long env_int(const char* name, long fallback, long lo, long hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < lo || x > hi)
    throw std::invalid_argument(std::string(name) + "=" + v + ": must be an integer within [" + std::to_string(lo) +
                                ", " + std::to_string(hi) + "]");
  return x;
}

}  // namespace

std::string World::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(size) + " (local " + std::to_string(local_rank) +
         " of " + std::to_string(local_size) + "), rendezvous " + master_addr + ":" + std::to_string(master_port);
}

World world_from_environment() {
  World w;
  const bool has_rank = std::getenv("RANK") && *std::getenv("RANK");
  w.size = int(env_int("WORLD_SIZE", 1, 1, 1 << 20));
  if (has_rank && !(std::getenv("WORLD_SIZE") && *std::getenv("WORLD_SIZE")))
    throw std::invalid_argument("RANK is set but WORLD_SIZE is not");
  w.rank = int(env_int("RANK", 0, 0, w.size - 1));
  w.local_size = int(env_int("LOCAL_WORLD_SIZE", 1, 1, w.size));
  w.local_rank = int(env_int("LOCAL_RANK", 0, 0, w.local_size - 1));
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) w.master_addr = a;
  w.master_port = uint16_t(env_int("MASTER_PORT", 29500, 1, 65535));
  return w;
}

int threads_per_process(int requested, int cores, int local_size) {
  if (requested > 0) return requested;
  return std::max(1, cores / std::max(1, local_size));
}

}  // namespace cvtk::detection::distributed

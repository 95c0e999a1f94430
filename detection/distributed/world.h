#pragma once
// Where this process stands in a data-parallel run, read from the environment torchrun-style launchers
// (torchrun, SLURM scripts, `cvtk train --nproc N`) set: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT. Without WORLD_SIZE (or with WORLD_SIZE=1) the run is one process.
#include <cstdint>
#include <string>

namespace cvtk::detection::distributed {

struct World {
  int rank = 0, size = 1;              // global rank in [0, size)
  int local_rank = 0, local_size = 1;  // on this machine (LOCAL_WORLD_SIZE; 1 when a launcher omits it)
  std::string master_addr = "127.0.0.1";
  uint16_t master_port = 29500;  // TCPStore rendezvous, hosted by rank 0
  bool distributed() const { return size > 1; }
  std::string describe() const;  // "rank 1 of 4 (local 1 of 2), rendezvous 10.0.0.1:29500"
};

// std::invalid_argument naming the variable and its value when one is malformed or inconsistent
// (RANK outside [0, WORLD_SIZE), a port outside [1, 65535], RANK without WORLD_SIZE).
World world_from_environment();

// Intra-op threads for one of local_size processes on `cores` cores: `requested` when positive, else
// cores / local_size (at least 1), so N local processes do not oversubscribe the machine.
int threads_per_process(int requested, int cores, int local_size);

}  // namespace cvtk::detection::distributed

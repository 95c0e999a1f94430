#pragma once
// `cvtk train --nproc N`: starts N local worker processes of this same program with the torchrun
// environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free
// MASTER_PORT, or the MASTER_PORT already set), each running this process's command line without
// --nproc, and supervises them.
//
// The program is /proc/self/exe and the command line /proc/self/cmdline, so this works whichever
// binary or loaded module the command runs in. Ctrl-C reaches the workers directly (the terminal's
// process group; each writes last.pt and exits 130) while the parent waits for them; SIGTERM sent to
// the parent is passed on to them.
//
// Returns the exit code for the parent: 0 when every worker exited 0; 130 when they stopped on an
// interrupt; otherwise, as soon as one worker exits non-zero or is killed, one line on `err` names
// its rank and how it ended, the others get SIGTERM (after a short grace period in which they
// usually notice on their own), then SIGKILL, and the code is 2.
#include <cstdio>
#include <string>

namespace cvtk::detection::distributed {

// The flag this process was started with, removed from argv; used to start the workers.
int launch_local_workers(int nproc, const std::string& flag = "--nproc", std::FILE* err = stderr);

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it).
int free_local_port();

}  // namespace cvtk::detection::distributed

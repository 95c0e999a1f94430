#pragma once
// How a cvtk program (the cvtk command, the benchmarks) hands memory back to the kernel: process-wide
// tuning, so it belongs to programs, not to the libraries.
//
// LibTorch frees every activation after use and allocates it again on the next forward. glibc serves
// blocks above its mmap threshold with fresh mappings and unmaps them on free, so each forward pays one
// page fault per 4 KiB of those buffers: about 580 faults per 320x320 ThunderNet detection, 0.5-1.4 ms
// of its 15 ms on one thread on this class of machine. keep_freed_memory() makes glibc serve blocks up to 32 MiB (its
// largest allowed threshold) from the heap and keep freed heap memory for reuse, trading a resident
// size that stays at its peak for fault-free reuse. Call it once at program start, before threads
// allocate. A no-op on C libraries other than glibc.
namespace cvtk {

void keep_freed_memory();

}  // namespace cvtk

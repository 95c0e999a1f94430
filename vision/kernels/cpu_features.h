#pragma once
// Run-time choice between the AVX2/FMA bodies of the hand-written CPU kernels (depthwise_conv2d,
// max_pool2d) and their portable loops. The build targets baseline x86-64 (or any other CPU), so the
// AVX2 bodies are compiled per function and only taken where the CPU reports the instructions.

namespace cvtk::vision {

// The CPU has AVX2 and FMA, and the portable loops are not forced (by force_portable_kernels or by
// the environment variable CVTK_PORTABLE_KERNELS=1, which holds for the whole process).
bool use_avx2_kernels();

// Tests: run the portable loops even where AVX2 is available, to check them on this machine too.
void force_portable_kernels(bool on);

}  // namespace cvtk::vision

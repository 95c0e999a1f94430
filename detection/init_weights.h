#pragma once
// Starting a training run from earlier weights (--init-weights): a cvtk checkpoint (its EMA weights
// when it has them) or a plain state dict, of a whole model or of a backbone alone (torchvision
// names, loaded under "backbone."). Tensors that do not fit by name and shape (another class count's
// heads) are skipped and counted, not fatal; a file of which nothing fits is an error naming it.
#include <cstdio>
#include <filesystem>

#include "detection/thundernet.h"

namespace cvtk::detection {

// Prints one line to out: tensors loaded, skipped, and left as initialised.
void load_init_weights(ThunderNet& model, const std::filesystem::path& file, std::FILE* out);

}  // namespace cvtk::detection

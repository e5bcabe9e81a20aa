// The backbones behind the model registry (see slimmable_net.h).
//
//   r2plus1d    residual video CNN: a strided spatio-temporal stem, then stages of
//               basic blocks with (2+1)D convs (spatial 1x3x3 then temporal
//               kx1x1, BN and ReLU between) or full 3D kxkxk convs.
//   tsm_mobile  edge-oriented: per-frame 2D depthwise-separable residual
//               blocks with a temporal shift (TSM) of a fraction of channels
//               at the input of each block, so 2D convs see across time at
//               no extra FLOPs.
#pragma once

#include <memory>

#include "models/slimmable_net.h"

namespace adaptive {

std::shared_ptr<SlimmableNet> build_r2plus1d(const ModelOptions& options);
std::shared_ptr<SlimmableNet> build_tsm_mobile(const ModelOptions& options);

}  // namespace adaptive

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

// Clips [N, 3, T, H, W] with their frame differences appended as 3 more
// channels ([N, 6, T, H, W]; frame 0's difference is zero): motion made
// explicit at the input (RGB-difference modality), which the r2plus1d stem
// reads when model.motion_input is on.
at::Tensor with_motion(const at::Tensor& clips);
// fold_frames(with_motion(clips)) (models/slimmable_layers.h): frames
// [N*T, 6, H, W] in channels-last memory, built in that layout: frame
// differences of the permuted view, then one concatenation along channels.
// Folding after the concatenation gathers every value from 6 planes and
// took over a third of a Jester-scale narrowest width's time (docs/artifact.md).
at::Tensor fold_frames_with_motion(const at::Tensor& clips);

// Shifts `fraction` of the channels of x [N*T, C, H, W] in time: the first
// half of them one frame forward, the second half one frame back, zero-filled
// at the ends (TSM). Exposed for tests.
at::Tensor temporal_shift(const at::Tensor& x, int64_t frames, double fraction);

}  // namespace adaptive

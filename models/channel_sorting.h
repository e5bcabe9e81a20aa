// Channels sorted by importance, so that each narrower width of a slimmable
// network runs the channels the widest width relies on most (the channel
// re-organisation of US-Nets and Once-for-All). It is what lets a network
// trained at one width start a slimmable run (train.init_from): a width's
// channels are the first ones of each layer, and after sorting those are the
// most useful ones instead of arbitrary ones.
//
// The network's structure is traced once over a NetBackend, so every
// backbone is covered without code of its own. Channels that meet in an
// addition (a residual stream) share one order; a depthwise conv keeps its
// input's order. A channel's importance is the L1 norm of the weights that
// read it, summed over the layers that read it (Once-for-All's rule). Sorting
// leaves the widest width's function unchanged: each conv's output channels,
// its batch norm and the inputs of the layers that read them move together.
// Channels that cannot move are left: the clip's colour channels, and those
// a temporal shift reaches (it shifts channels by their position).
#pragma once

#include <cstdint>

#include "models/slimmable_net.h"

namespace adaptive {

struct ChannelSortSummary {
  int groups_sorted = 0;  // channel orders that moved (each shared by the layers that meet in it)
  int groups_fixed = 0;   // orders that cannot move (colour channels, temporal shifts)
};

// Sorts `net`'s channels at its widest width (a clip of `frames` frames),
// in place, then gives every narrower width the widest width's batch norm
// (affine and statistics), first channels: a narrower width's old batch norm
// belonged to other channels. `classifier_trained` false: the classifier's
// weights are fresh, so they do not say which features matter (a channel
// order read by nothing else is then sorted by its batch norms' |scale|).
ChannelSortSummary sort_channels_by_importance(SlimmableNet& net, int64_t frames,
                                               bool classifier_trained = true);

}  // namespace adaptive

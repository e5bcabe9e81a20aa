// A new run that starts from another run's weights (train.init_from):
// fine-tuning on a dataset of one's own, or a slimmable network started
// from a plain network of its full width. The weights come over; the
// optimizer, schedule and epoch do not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/channel_sorting.h"
#include "models/slimmable_net.h"

namespace adaptive {

struct InitFromSummary {
  int64_t layers = 0;               // convs copied (with their batch norms)
  bool classifier_reset = false;    // the classes differ: the classifier starts afresh
  int64_t checkpoint_classes = 0;   // the checkpoint's classes
  int64_t shared_classes = 0;       // of them, this run's too
  double checkpoint_narrowest = 0;  // the checkpoint's narrowest width
  bool sorted = false;              // channels sorted by importance (below)
  ChannelSortSummary sort;
};

// Copies the weights of the checkpoint at `path` (any checkpoint of
// adaptive-train) into `model`, whose classes are `classes`:
// - every conv, and each width's batch norm: the same width's where the
//   checkpoint has it, else its widest width's first channels;
// - the classifier when the checkpoint's classes are this run's, in order;
//   otherwise it keeps its fresh initialisation;
// - when the checkpoint's narrowest width is wider than `model`'s (a plain
//   network's checkpoint starting a slimmable run), the channels are then
//   sorted by importance (models/channel_sorting.h), so that each narrower
//   width starts from the most useful filters (a reset classifier's fresh
//   weights play no part in that).
// Throws std::runtime_error naming the checkpoint: unreadable, or a layer
// whose shape differs (naming the model keys in which the configs differ).
InitFromSummary init_from_checkpoint(SlimmableNet& model, const std::vector<std::string>& classes,
                                     const std::string& path, int64_t frames);

// One line for the run's output: what came over and what did not.
std::string describe(const InitFromSummary& summary, const std::string& path);

}  // namespace adaptive

// Training samples cut from long videos with a ground-truth timeline: a
// stream file and its <stem>.json beside it (datasets/timeline.h), such as
// the synthetic dataset's streams/train.
//
// Every segment, idle stretches included, becomes one sample labelled with
// the segment's label. Its frame range holds exactly the clips whose middle
// falls in the segment, so a clip of a stream is labelled by the segment at
// its middle, as the scoring counts a window for the gesture it is centred
// in. A clip's past (ClipSamplerOptions::past_frames) is the stream before
// it: what a causal model's state holds when the window runs streamed.
#pragma once

#include <string>
#include <vector>

#include "datasets/clip_sampler.h"
#include "datasets/dataset_index.h"
#include "datasets/timeline.h"

namespace adaptive {

// The samples of one stream of `num_frames` frames at `fps`, labels indexed
// into `classes`. Segments too short for any clip centred in them near the
// stream's ends are left out. Throws DataError naming `timeline_path` and the
// segment when its label is not one of `classes`.
std::vector<SampleEntry> stream_samples(const std::string& video_path,
                                        const std::vector<TimelineSegment>& timeline,
                                        const std::string& timeline_path, double fps,
                                        int64_t num_frames, const ClipSamplerOptions& clip,
                                        const std::vector<std::string>& classes);

// Adds the samples of every video in `folder` that has a timeline beside it
// to `index` (labels in its classes); returns how many. Throws DataError on a
// missing folder, a folder without such a video, a bad timeline, or a video
// that cannot be opened.
int64_t add_stream_samples(DatasetIndex& index, const std::string& folder,
                           const ClipSamplerOptions& clip);

}  // namespace adaptive

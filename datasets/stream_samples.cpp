#include "datasets/stream_samples.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "datasets/errors.h"
#include "datasets/frame_source.h"

namespace adaptive {

namespace fs = std::filesystem;

std::vector<SampleEntry> stream_samples(const std::string& video_path,
                                        const std::vector<TimelineSegment>& timeline,
                                        const std::string& timeline_path, double fps,
                                        int64_t num_frames, const ClipSamplerOptions& clip,
                                        const std::vector<std::string>& classes) {
  const ClipSampler sampler(clip);
  const int64_t reach = sampler.clip_reach(fps);
  const double middle = (clip.frames - 1) * sampler.stride(fps) / 2;  // from a clip's first frame
  std::vector<SampleEntry> samples;
  for (size_t k = 0; k < timeline.size(); ++k) {
    const TimelineSegment& seg = timeline[k];
    const auto label = std::find(classes.begin(), classes.end(), seg.label);
    if (label == classes.end()) {
      throw DataError(timeline_path + ": [" + std::to_string(k) + "]: label '" + seg.label +
                      "' is not a class of the dataset");
    }
    // Frames [a, b) of the segment; clip starts x with x + middle in them.
    const int64_t a = std::llround(seg.start_s * fps), b = std::llround(seg.end_s * fps);
    const int64_t first = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(a - middle - 1e-6)));
    const int64_t last =
        std::min(static_cast<int64_t>(std::ceil(b - middle - 1e-6)) - 1, num_frames - 1 - reach);
    if (last < first) continue;
    SampleEntry e;
    e.path = video_path;
    e.label = static_cast<int>(label - classes.begin());
    e.start_frame = first;
    e.end_frame = last + reach;
    samples.push_back(std::move(e));
  }
  return samples;
}

int64_t add_stream_samples(DatasetIndex& index, const std::string& folder,
                           const ClipSamplerOptions& clip) {
  if (!fs::is_directory(folder)) throw DataError(folder + ": stream folder not found");
  std::vector<fs::path> videos;
  for (const auto& e : fs::directory_iterator(folder)) {
    const fs::path p = e.path();
    if (e.is_regular_file() && p.extension() != ".json" &&
        fs::exists(fs::path(p).replace_extension(".json")))
      videos.push_back(p);
  }
  if (videos.empty()) {
    throw DataError(folder + ": no stream video with a timeline (<name>.json) beside it");
  }
  std::sort(videos.begin(), videos.end());
  int64_t added = 0;
  for (const fs::path& video : videos) {
    const std::string timeline_path = fs::path(video).replace_extension(".json").string();
    const std::vector<TimelineSegment> timeline = read_timeline(timeline_path);
    const auto source = open_frame_source(video.string());
    const int64_t frames = source->announced_frames();
    if (frames <= 0 || !(source->fps() > 0)) {
      throw DataError(video.string() + ": the container announces no frame count or frame rate");
    }
    for (SampleEntry& e : stream_samples(video.string(), timeline, timeline_path, source->fps(),
                                         frames, clip, index.classes)) {
      index.samples.push_back(std::move(e));
      ++added;
    }
  }
  return added;
}

}  // namespace adaptive

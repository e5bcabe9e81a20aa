// Live frame sources: network streams and cameras, whose frames arrive in
// real time, and files delivered at their own frame rate as a camera would.
//
// A live source never waits for its reader: frames it delivers late are
// the reader's to drop (infer/window_reader.h). What a live source adds to
// FrameSource's contract:
//   - opening fails within `connect_timeout_s`, naming the source;
//   - a stream silent for `read_timeout_s` has stopped;
//   - a stream that stops is reopened up to `reconnect` times, waiting
//     `backoff_s`, then twice as long each time (at most 8 s); when every
//     attempt fails, read() throws BadSampleError saying so. With no attempts
//     asked for, read() returns false: the stream ended.
//   - fps() comes from the frames' timestamps (an MPEG-TS stream reports
//     its 90 kHz clock as CAP_PROP_FPS), read from the first frames.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "datasets/frame_source.h"

namespace adaptive {

struct LiveSourceOptions {
  double connect_timeout_s = 5;
  double read_timeout_s = 5;
  int reconnect = 0;
  double backoff_s = 0.5;
  // Set (e.g. by SIGINT) to end a back-off wait early; read() then returns false.
  const std::atomic<bool>* stop = nullptr;
};

// "scheme://..." (http, rtsp, udp, ...): opened by URL with OpenCV's FFmpeg backend.
bool is_stream_url(const std::string& input);
// "/dev/videoN" or a bare index "N": the camera's index.
std::optional<int> camera_index(const std::string& input);
// Either of the two.
bool is_live_input(const std::string& input);

// Opens a stream URL or a camera. Throws BadSampleError naming the source
// when it cannot be opened (nothing listening, timeout, no such camera) or
// delivers no frame.
std::unique_ptr<FrameSource> open_live_source(const std::string& input,
                                              const LiveSourceOptions& options);

// `source` delivered at its own frame rate: frame i is returned no earlier
// than i / fps() seconds after the first (adaptive-infer --realtime). The
// result is live.
std::unique_ptr<FrameSource> paced_source(std::unique_ptr<FrameSource> source);

// How adaptive-infer opens its --input: a stream or camera (live), else a
// video file or frame folder (open_frame_source), paced when `realtime`.
struct InputOptions {
  double folder_fps = 12;
  bool realtime = false;
  LiveSourceOptions live;
  // A file's frames [first_frame, last_frame] only (a manifest row's
  // start_frame / end_frame; last_frame < 0: to the end).
  int64_t first_frame = 0, last_frame = -1;
};
std::unique_ptr<FrameSource> open_input(const std::string& input, const InputOptions& options);
// Whether open_input(input, options) gives a live source: a stream, a camera,
// or a file delivered in real time.
bool opens_live(const std::string& input, const InputOptions& options);

}  // namespace adaptive

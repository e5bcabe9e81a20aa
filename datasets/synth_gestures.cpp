#include "datasets/synth_gestures.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <stdio.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "common/clock.h"
#include "datasets/rng.h"

namespace fs = std::filesystem;

namespace adaptive {
namespace {

enum Gesture {
  kSwipeLeft,
  kSwipeRight,
  kSwipeUp,
  kSwipeDown,
  kRotateCw,
  kRotateCcw,
  kPush,
  kPull,
  kShake,
  kNoGesture,
  kNumGestures
};

constexpr double kPi = 3.14159265358979323846;
const char* const kSplits[3] = {"train", "val", "test"};

double lerp(double a, double b, double t) {
  return a + (b - a) * t;
}
// How strongly a difficulty applies its effects: slowly at first and steeply
// near 1, so most clips stay readable and the top of the range is hard.
double effect_strength(double difficulty) {
  return std::pow(difficulty, 1.5);
}
double smoothstep(double u) {
  u = std::clamp(u, 0.0, 1.0);
  return u * u * (3 - 2 * u);
}

// Where the hand is and how it looks at one instant.
struct Pose {
  double x = 0, y = 0;  // centre, pixels
  double scale = 1;
  double angle = 0;  // radians, clockwise on screen (y points down)
  double alpha = 1;  // visibility, for fading in and out
};

// One gesture instance: the class plus the random choices that shape it.
struct Motion {
  int gesture = kNoGesture;
  Pose rest;               // the pose the motion is centred on
  double amplitude = 0;    // pixels (swipes, shake) or scale change (push/pull)
  double turn = kPi;       // rotation, radians
  double cycles = 2.5;     // shake
  double drift_phase = 0;  // idle micro-motion

  Pose at(double u) const {  // u: progress in [0, 1]
    Pose p = rest;
    const double e = smoothstep(u);
    switch (gesture) {
      case kSwipeLeft:
        p.x += amplitude * (0.5 - e);
        break;
      case kSwipeRight:
        p.x += amplitude * (e - 0.5);
        break;
      case kSwipeUp:
        p.y += amplitude * (0.5 - e);
        break;
      case kSwipeDown:
        p.y += amplitude * (e - 0.5);
        break;
      case kRotateCw:
        p.angle += turn * e;
        break;
      case kRotateCcw:
        p.angle -= turn * e;
        break;
      case kPush:
        p.scale *= 1 + amplitude * (e - 0.5);
        break;
      case kPull:
        p.scale *= 1 + amplitude * (0.5 - e);
        break;
      case kShake:
        p.x += 0.3 * amplitude * std::sin(2 * kPi * cycles * u);
        break;
      default:
        break;
    }
    return p;
  }
};

struct Distractor {
  double x, y, vx, vy, angle, spin, rx, ry;
  cv::Scalar color;
};

// Everything about a clip's look that depends on its difficulty.
struct Scene {
  int width = 0, height = 0;
  double difficulty = 0;
  cv::Mat background;      // BGR, with static clutter drawn in
  double hand_radius = 0;  // pixels at scale 1
  cv::Scalar hand_color, thumb_color;
  std::vector<Distractor> distractors;
  cv::Rect occluder;  // empty: none
  cv::Scalar occluder_color;
  double light_gain = 1, flicker = 0, flicker_hz = 0, flicker_phase = 0;
  double noise_sigma = 0, blur_sigma = 0;
};

cv::Scalar random_color(Rng& rng, double lo = 0, double hi = 255) {
  return {rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi)};
}

Scene make_scene(double difficulty, int width, int height, Rng& rng) {
  Scene s;
  s.width = width;
  s.height = height;
  s.difficulty = difficulty;
  const double d = effect_strength(difficulty);
  // The hand: a skin tone with a blue thumb mark, large when easy, small when hard.
  const double tone = rng.uniform();
  s.hand_color = cv::Scalar(lerp(60, 170, tone), lerp(85, 200, tone), lerp(130, 240, tone)) +
                 random_color(rng, -12, 12);
  s.thumb_color = cv::Scalar(200, 80, 40);
  s.hand_radius = height * lerp(0.20, 0.095, d) * rng.uniform(0.9, 1.1);
  // Background: a two-colour gradient whose brightness stands off the hand's by
  // a contrast that shrinks with difficulty, then clutter that grows with it.
  const double contrast = lerp(110, 30, d);
  const double sign = tone > 0.5 ? -1 : 1;
  auto background_color = [&] {
    cv::Scalar c;
    const double shift = sign * contrast * rng.uniform(0.8, 1.2);
    for (int k = 0; k < 3; ++k)
      c[k] = std::clamp(s.hand_color[k] + shift + rng.uniform(-30, 30), 0.0, 255.0);
    return c;
  };
  const cv::Scalar c0 = background_color(), c1 = background_color();
  s.background.create(height, width, CV_8UC3);
  const bool vertical = rng.bernoulli(0.5);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double t = vertical ? y / double(height - 1) : x / double(width - 1);
      const cv::Scalar c = c0 * (1 - t) + c1 * t;
      s.background.at<cv::Vec3b>(y, x) =
          cv::Vec3b(cv::saturate_cast<uchar>(c[0]), cv::saturate_cast<uchar>(c[1]),
                    cv::saturate_cast<uchar>(c[2]));
    }
  }
  const int clutter = static_cast<int>(std::lround(lerp(0, 30, d) * rng.uniform(0.7, 1.3)));
  for (int i = 0; i < clutter; ++i) {
    const cv::Point a(int(rng.uniform(0, width)), int(rng.uniform(0, height)));
    const int size = int(rng.uniform(3, 0.18 * height));
    const cv::Scalar c = random_color(rng);
    switch (rng.uniform_int(0, 2)) {
      case 0:
        cv::rectangle(s.background, a, a + cv::Point(size, size * 2 / 3), c, -1, cv::LINE_AA);
        break;
      case 1:
        cv::circle(s.background, a, size / 2, c, -1, cv::LINE_AA);
        break;
      default:
        cv::line(s.background, a,
                 a + cv::Point(int(rng.uniform(-40, 40)), int(rng.uniform(-40, 40))), c,
                 1 + int(rng.uniform(0, 3)), cv::LINE_AA);
    }
  }
  // Look-alike distractors moving on their own.
  const int distractors = static_cast<int>(std::floor(lerp(0, 3.99, std::pow(d, 1.3))));
  for (int i = 0; i < distractors; ++i) {
    Distractor m;
    m.x = rng.uniform(0, width);
    m.y = rng.uniform(0, height);
    const double speed = rng.uniform(0.5, 2.5);
    const double dir = rng.uniform(0, 2 * kPi);
    m.vx = speed * std::cos(dir);
    m.vy = speed * std::sin(dir);
    m.angle = rng.uniform(0, 2 * kPi);
    m.spin = rng.uniform(-0.1, 0.1);
    m.rx = s.hand_radius * rng.uniform(0.7, 1.2);
    m.ry = m.rx * rng.uniform(0.4, 0.8);
    // Unlike the hand when easy, skin-toned like it when hard.
    m.color = random_color(rng) * (1 - d) + (s.hand_color + random_color(rng, -30, 30)) * d;
    s.distractors.push_back(m);
  }
  if (rng.bernoulli(0.8 * d)) {  // a bar across part of the view
    const int thick = int(lerp(0.08, 0.22, d) * width);
    s.occluder = rng.bernoulli(0.5)
                     ? cv::Rect(int(rng.uniform(0.15, 0.75) * width), 0, thick, height)
                     : cv::Rect(0, int(rng.uniform(0.15, 0.75) * height), width, thick * 3 / 4);
    s.occluder_color = random_color(rng, 20, 235);
  }
  s.light_gain = lerp(1.0, rng.uniform(0.55, 1.1), d);
  s.flicker = lerp(0, 0.25, d) * rng.uniform(0, 1);
  s.flicker_hz = rng.uniform(0.5, 4);
  s.flicker_phase = rng.uniform(0, 2 * kPi);
  s.noise_sigma = lerp(0, 22, d);
  s.blur_sigma = lerp(0, 1.6, d) * rng.uniform(0.5, 1.0);
  return s;
}

// A random gesture of class `g` placed in the view.
Motion make_motion(int g, const Scene& s, Rng& rng) {
  Motion m;
  m.gesture = g;
  const double w = s.width, h = s.height, d = effect_strength(s.difficulty);
  m.rest.x = w * rng.uniform(0.35, 0.65);
  m.rest.y = h * rng.uniform(0.35, 0.65);
  m.rest.angle = rng.uniform(-0.6, 0.6);
  m.rest.scale = 1;
  const bool vertical = g == kSwipeUp || g == kSwipeDown;
  if (g == kPush || g == kPull) {
    m.amplitude = lerp(0.9, 0.5, d) * rng.uniform(0.85, 1.15);
  } else {
    m.amplitude = (vertical ? h : w) * lerp(0.55, 0.3, d) * rng.uniform(0.85, 1.15);
  }
  m.turn = kPi * rng.uniform(0.8, 1.1);
  m.cycles = rng.uniform(2, 3);
  m.drift_phase = rng.uniform(0, 2 * kPi);
  return m;
}

// Small idle motion present at all times, so stillness is not a cue.
Pose with_drift(Pose p, const Motion& m, double t_s, const Scene& s) {
  p.x += 0.012 * s.width * std::sin(1.7 * t_s + m.drift_phase);
  p.y += 0.012 * s.height * std::sin(1.3 * t_s + 2 * m.drift_phase);
  p.angle += 0.05 * std::sin(0.9 * t_s + m.drift_phase);
  return p;
}

void draw_hand(cv::Mat& img, const Pose& p, const Scene& s) {
  const double r = s.hand_radius * p.scale;
  const cv::Point2f c(float(p.x), float(p.y));
  cv::ellipse(
      img, cv::RotatedRect(c, cv::Size2f(float(2 * r), float(1.2 * r)), float(p.angle * 180 / kPi)),
      s.hand_color, -1, cv::LINE_AA);
  const cv::Point2f thumb(float(p.x + 0.75 * r * std::cos(p.angle)),
                          float(p.y + 0.75 * r * std::sin(p.angle)));
  cv::circle(img, thumb, std::max(2, int(0.28 * r)), s.thumb_color, -1, cv::LINE_AA);
}

// Renders one frame at time t_s (seconds) into `out` (BGR).
void render_frame(const Scene& s, const Pose& hand, double t_s, cv::RNG& noise_rng, cv::Mat& out) {
  s.background.copyTo(out);
  for (const Distractor& m : s.distractors) {
    // Bounce around the view.
    auto bounce = [](double p, double v, double t, double size) {
      const double period = 2 * size;
      double q = std::fmod(p + v * t, period);
      if (q < 0) q += period;
      return q < size ? q : period - q;
    };
    const double frame = t_s * 16;  // velocities are in pixels per 1/16 s
    const cv::Point2f c(float(bounce(m.x, m.vx, frame, s.width)),
                        float(bounce(m.y, m.vy, frame, s.height)));
    const float angle = float((m.angle + m.spin * frame) * 180 / kPi);
    cv::ellipse(out, cv::RotatedRect(c, cv::Size2f(float(2 * m.rx), float(2 * m.ry)), angle),
                m.color, -1, cv::LINE_AA);
  }
  if (hand.alpha >= 0.999) {
    draw_hand(out, hand, s);
  } else if (hand.alpha > 0.001) {
    cv::Mat layer = out.clone();
    draw_hand(layer, hand, s);
    cv::addWeighted(layer, hand.alpha, out, 1 - hand.alpha, 0, out);
  }
  if (!s.occluder.empty()) cv::rectangle(out, s.occluder, s.occluder_color, -1);
  const double gain =
      s.light_gain * (1 + s.flicker * std::sin(2 * kPi * s.flicker_hz * t_s + s.flicker_phase));
  if (std::abs(gain - 1) > 1e-3) out.convertTo(out, -1, gain, 0);
  if (s.blur_sigma > 0.3) cv::GaussianBlur(out, out, cv::Size(0, 0), s.blur_sigma);
  if (s.noise_sigma > 0.5) {
    cv::Mat noise(out.size(), CV_16SC3);
    noise_rng.fill(noise, cv::RNG::NORMAL, 0, s.noise_sigma);
    cv::Mat wide;
    out.convertTo(wide, CV_16SC3);
    wide += noise;
    wide.convertTo(out, CV_8UC3);
  }
}

// A timeline piece: the hand performing `motion` over [start, end) frames, or
// (idle) resting, fading from the pose `from` to the pose `to`.
struct Segment {
  int label = kNoGesture;
  int64_t start = 0, end = 0;
  double difficulty = 0;
  Motion motion;      // gestures
  Pose from, to;      // idle: where the hand rests before and after
  bool fade = false;  // idle: fade out at `from`, fade in at `to`
};

Pose pose_at(const Segment& seg, int64_t frame) {
  const double u = (frame - seg.start) / double(std::max<int64_t>(1, seg.end - seg.start - 1));
  if (seg.label != kNoGesture) return seg.motion.at(u);
  if (!seg.fade) return seg.from;
  // Out over the first 30%, absent, then in over the last 30%.
  Pose p = u < 0.5 ? seg.from : seg.to;
  p.alpha = u < 0.5 ? std::clamp(1 - u / 0.3, 0.0, 1.0) : std::clamp((u - 0.7) / 0.3, 0.0, 1.0);
  return p;
}

// Renders a timeline of segments and writes it as an MJPG AVI.
int64_t render_video(const std::vector<Segment>& timeline, const Scene& scene, const Motion& drift,
                     double fps, uint64_t noise_seed, const std::string& path,
                     std::vector<cv::Mat>* keep = nullptr) {
  cv::VideoWriter writer;
  if (keep == nullptr && !writer.open(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps,
                                      cv::Size(scene.width, scene.height))) {
    throw std::runtime_error(path + ": cannot open for writing (MJPG/AVI)");
  }
  cv::RNG noise_rng(noise_seed);
  cv::Mat frame;
  int64_t n = 0;
  for (const Segment& seg : timeline) {
    for (int64_t f = seg.start; f < seg.end; ++f, ++n) {
      const double t = f / fps;
      render_frame(scene, with_drift(pose_at(seg, f), drift, t, scene), t, noise_rng, frame);
      if (keep) {
        keep->push_back(frame.clone());
      } else {
        writer.write(frame);
      }
    }
  }
  return n;
}

// The three segments of a clip of `label`: rest, gesture, rest.
std::vector<Segment> clip_timeline(int label, double d, const SynthOptions& o, const Scene& scene,
                                   Rng& rng) {
  const int64_t n = o.frames;
  Motion motion = make_motion(label, scene, rng);
  if (label == kNoGesture) {
    Segment idle;
    idle.start = 0;
    idle.end = n;
    idle.from = motion.at(0);
    idle.to = make_motion(kNoGesture, scene, rng).at(0);
    idle.fade = rng.bernoulli(0.3);  // the hand may leave and come back: still no gesture
    if (!idle.fade) idle.to = idle.from;
    return {idle};
  }
  // Faster gestures when hard; the gesture's middle falls in the clip's middle fifth.
  const int64_t length = std::clamp<int64_t>(
      std::lround(n * lerp(0.55, 0.32, effect_strength(d)) * rng.uniform(0.85, 1.15)), 4, n);
  const double centre = n * rng.uniform(0.4, 0.6);
  const int64_t start = std::clamp<int64_t>(std::lround(centre - length / 2.0), 0, n - length);
  Segment before, gesture, after;
  gesture.label = label;
  gesture.start = start;
  gesture.end = start + length;
  gesture.motion = motion;
  before.end = start;
  before.from = before.to = motion.at(0);
  after.start = gesture.end;
  after.end = n;
  after.from = after.to = motion.at(1);
  return {before, gesture, after};
}

std::vector<Segment> stream_timeline(const SynthOptions& o, const Scene& scene, Rng& rng) {
  const int64_t total = std::lround(o.stream_seconds * o.fps);
  std::vector<Segment> timeline;
  Pose last = make_motion(kNoGesture, scene, rng).at(0);
  int64_t f = 0;
  while (f < total) {
    Segment idle;
    idle.start = f;
    idle.end = std::min(total, f + std::lround(rng.uniform(1.2, 3.0) * o.fps));
    idle.difficulty = scene.difficulty;
    const int g = static_cast<int>(rng.uniform_int(0, kNoGesture - 1));
    Motion motion = make_motion(g, scene, rng);
    idle.from = last;
    idle.to = motion.at(0);
    idle.fade = true;
    timeline.push_back(idle);
    f = idle.end;
    const int64_t length = std::lround(rng.uniform(0.8, 1.2) *
                                       lerp(1.0, 0.6, effect_strength(scene.difficulty)) * o.fps);
    if (f + length > total) {
      timeline.back().end = total;  // not enough room: end on the idle stretch
      timeline.back().to = timeline.back().from;
      timeline.back().fade = false;
      break;
    }
    Segment gesture;
    gesture.label = g;
    gesture.start = f;
    gesture.end = f + length;
    gesture.difficulty = scene.difficulty;
    gesture.motion = motion;
    timeline.push_back(gesture);
    last = motion.at(1);
    f = gesture.end;
  }
  return timeline;
}

// Renders one clip of `label`, or a stream when label < 0, to `path` (or into
// `keep`). Everything random comes from `seed`. Returns the timeline and the
// number of frames.
std::pair<std::vector<Segment>, int64_t> render_piece(int label, double difficulty, uint64_t seed,
                                                      const SynthOptions& o,
                                                      const std::string& path,
                                                      std::vector<cv::Mat>* keep = nullptr) {
  Rng rng(seed);
  const Scene scene = make_scene(difficulty, o.width, o.height, rng);
  auto timeline =
      label >= 0 ? clip_timeline(label, difficulty, o, scene, rng) : stream_timeline(o, scene, rng);
  const Motion drift = make_motion(kNoGesture, scene, rng);
  const int64_t frames = render_video(timeline, scene, drift, o.fps, mix64(seed), path, keep);
  return {std::move(timeline), frames};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

void check_options(const SynthOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  require(!o.out_dir.empty(), "out: an output folder is required");
  require(o.train_per_class >= 1 && o.val_per_class >= 1 && o.test_per_class >= 1,
          "clips per class must be >= 1 for every split");
  require(o.width >= 32 && o.height >= 32 && o.width <= 4096 && o.height <= 4096,
          "frame size must be between 32 and 4096 pixels");
  require(o.frames >= 4 && o.frames <= 10000, "frames per clip must be in [4, 10000]");
  require(o.fps >= 1 && o.fps <= 240, "fps must be in [1, 240]");
  require(o.train_streams >= 0 && o.val_streams >= 0 && o.test_streams >= 0,
          "stream counts must be >= 0");
  require(o.train_streams + o.val_streams + o.test_streams == 0 ||
              (o.stream_seconds >= 2 && o.stream_seconds <= 3600),
          "stream seconds must be in [2, 3600]");
  require(o.threads >= 0, "threads must be >= 0");
  require(o.max_difficulty >= 0 && o.max_difficulty <= 1, "max difficulty must be in [0, 1]");
}

struct Job {
  int split = -1;  // 0, 1, 2: train, val, test clips; -3, -2, -1: train, val, test streams
  int label = 0;
  int index = 0;
  double difficulty = 0;
  std::string rel_path;
};

std::string zero_pad(int i, int width = 5) {
  std::string s = std::to_string(i);
  return std::string(std::max(0, width - int(s.size())), '0') + s;
}

}  // namespace

const std::vector<std::string>& synth_gesture_classes() {
  static const std::vector<std::string> names = {
      "swipe_left", "swipe_right", "swipe_up", "swipe_down", "rotate_cw",
      "rotate_ccw", "push",        "pull",     "shake",      "no_gesture"};
  return names;
}

std::vector<int> synth_gesture_flip_map() {
  std::vector<int> map(kNumGestures);
  for (int i = 0; i < kNumGestures; ++i) map[i] = i;
  std::swap(map[kSwipeLeft], map[kSwipeRight]);
  std::swap(map[kRotateCw], map[kRotateCcw]);
  return map;
}

std::vector<cv::Mat> render_synth_clip(int label, double difficulty, uint64_t seed,
                                       const SynthOptions& options) {
  if (label < 0 || label >= kNumGestures)
    throw std::invalid_argument("render_synth_clip: bad label");
  std::vector<cv::Mat> frames;
  render_piece(label, difficulty, seed, options, "", &frames);
  return frames;
}

namespace {

// Puts the finished folder `staging` at `out`. A folder already there is
// exchanged with it in one rename (renameat2 RENAME_EXCHANGE), so `out`
// always holds a whole dataset, then removed. Where the file system cannot
// exchange, the old folder is renamed to `aside` first and put back if the
// second rename fails.
void move_into_place(const fs::path& staging, const fs::path& out, const fs::path& aside) {
  std::error_code ec;
  if (!fs::exists(out, ec)) {
    fs::rename(staging, out);
    return;
  }
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staging);  // now the old dataset
    return;
  }
  fs::remove_all(aside);
  fs::rename(out, aside);
  try {
    fs::rename(staging, out);
  } catch (...) {
    fs::rename(aside, out, ec);
    throw;
  }
  fs::remove_all(aside);
}

}  // namespace

SynthSummary generate_synth_gestures(const SynthOptions& o,
                                     const std::function<void(const std::string&)>& progress) {
  check_options(o);
  const auto t0 = Clock::now();
  const fs::path out = fs::path(o.out_dir);
  std::error_code ec;
  if (fs::exists(out, ec) && !o.overwrite) {
    throw std::runtime_error(out.string() + ": already exists (pass --overwrite to replace it)");
  }
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent);
  const fs::path staging = parent / ("." + out.filename().string() + ".partial");
  fs::remove_all(staging);

  const auto& classes = synth_gesture_classes();
  const int per_split[3] = {o.train_per_class, o.val_per_class, o.test_per_class};
  std::vector<Job> jobs;
  for (int split = 0; split < 3; ++split) {
    for (int label = 0; label < kNumGestures; ++label) {
      fs::create_directories(staging / kSplits[split] / classes[label]);
      for (int i = 0; i < per_split[split]; ++i) {
        Job job;
        job.split = split;
        job.label = label;
        job.index = i;
        // Stratified: one clip in each 1/n of [0, 1], at a random place in it.
        Rng rng(derive_seed(o.seed, {uint64_t(split), uint64_t(label), uint64_t(i), 0xD1FFULL}));
        job.difficulty = o.max_difficulty * (i + rng.uniform()) / per_split[split];
        job.rel_path = std::string(kSplits[split]) + "/" + classes[label] + "/" + classes[label] +
                       "_" + zero_pad(i) + ".avi";
        jobs.push_back(job);
      }
    }
  }
  // Streams: split -3 (train), -2 (val) and -1 (test), each with
  // difficulties spread over the same range and seeds of its own. The val
  // streams are the ones earlier versions rendered as streams/stream_<k> (and
  // tuned policies on); the test streams were never rendered before.
  for (const auto& [split, count, folder] :
       {std::tuple{-3, o.train_streams, "train"}, std::tuple{-2, o.val_streams, "val"},
        std::tuple{-1, o.test_streams, "test"}}) {
    if (count > 0) fs::create_directories(staging / "streams" / folder);
    for (int k = 0; k < count; ++k) {
      Job job;
      job.split = split;
      job.index = k;
      job.difficulty =
          o.max_difficulty * (count == 1 ? 0.5 : lerp(0.1, 0.9, k / double(count - 1)));
      job.rel_path = std::string("streams/") + folder + "/stream_" + zero_pad(k, 3) + ".avi";
      jobs.push_back(job);
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<int64_t> frames{0};
  std::mutex mutex;
  std::string error;
  size_t done = 0;
  auto work = [&] {
    for (size_t j; (j = next++) < jobs.size();) {
      const Job& job = jobs[j];
      try {
        const uint64_t seed = job.split >= 0
                                  ? derive_seed(o.seed, {uint64_t(job.split), uint64_t(job.label),
                                                         uint64_t(job.index)})
                                  : derive_seed(o.seed, {job.split == -3   ? 0x57ADULL
                                                         : job.split == -2 ? 0x57AEULL
                                                                           : 0x57AFULL,
                                                         uint64_t(job.index)});
        const auto [timeline, n] = render_piece(job.split >= 0 ? job.label : -1, job.difficulty,
                                                seed, o, (staging / job.rel_path).string());
        frames += n;
        if (job.split < 0) {
          nlohmann::json segments = nlohmann::json::array();
          for (const Segment& seg : timeline) {
            segments.push_back({{"label", classes[seg.label]},
                                {"start_s", seg.start / o.fps},
                                {"end_s", seg.end / o.fps},
                                {"difficulty", seg.difficulty}});
          }
          write_text((staging / job.rel_path).replace_extension(".json"), segments.dump(1) + "\n");
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        if (error.empty()) error = job.rel_path + ": " + e.what();
        next = jobs.size();
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (++done % 200 == 0 && progress) {
        progress("rendered " + std::to_string(done) + "/" + std::to_string(jobs.size()) +
                 " videos");
      }
    }
  };
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (!error.empty()) {
    fs::remove_all(staging, ec);
    throw std::runtime_error("synthetic dataset: " + error);
  }

  SynthSummary summary;
  summary.classes = classes;
  summary.train_streams = o.train_streams;
  summary.val_streams = o.val_streams;
  summary.test_streams = o.test_streams;
  summary.frames = frames;
  std::string class_list;
  for (const auto& c : classes) class_list += c + "\n";
  write_text(staging / "classes.txt", class_list);
  for (int split = 0; split < 3; ++split) {
    std::ostringstream csv;
    csv << "path,label,difficulty\n";
    for (const Job& job : jobs) {
      if (job.split != split) continue;
      char difficulty[16];
      std::snprintf(difficulty, sizeof difficulty, "%.4f", job.difficulty);
      csv << job.rel_path << "," << classes[job.label] << "," << difficulty << "\n";
      ++summary.clips[split];
    }
    write_text(staging / (std::string(kSplits[split]) + ".csv"), csv.str());
  }
  nlohmann::json meta = {
      {"generator", "adaptive-data synth"},
      {"version", ADAPTIVE_VERSION},
      {"seed", o.seed},
      {"classes", classes},
      {"splits",
       {{"train", summary.clips[0]}, {"val", summary.clips[1]}, {"test", summary.clips[2]}}},
      {"clip", {{"width", o.width}, {"height", o.height}, {"frames", o.frames}, {"fps", o.fps}}},
      {"per_class",
       {{"train", o.train_per_class}, {"val", o.val_per_class}, {"test", o.test_per_class}}},
      {"streams",
       {{"train", o.train_streams},
        {"val", o.val_streams},
        {"test", o.test_streams},
        {"seconds", o.stream_seconds}}},
      {"max_difficulty", o.max_difficulty},
      {"codec", "MJPG/AVI"}};
  write_text(staging / "synth.json", meta.dump(2) + "\n");
  for (const auto& e : fs::recursive_directory_iterator(staging)) {
    if (e.is_regular_file()) summary.bytes += static_cast<int64_t>(e.file_size());
  }
  move_into_place(staging, out, parent / ("." + out.filename().string() + ".old"));
  summary.seconds = seconds_since(t0);
  return summary;
}

}  // namespace adaptive

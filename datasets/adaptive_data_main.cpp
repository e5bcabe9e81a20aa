// adaptive-data: make the built-in synthetic dataset, inspect a dataset, and
// measure the data pipeline's speed.
//
//   adaptive-data synth   --out DIR [--seed S] [options]
//   adaptive-data inspect --data DIR_OR_CSV [--classes FILE] [--check]
//   adaptive-data inspect --timeline FILE.json
//   adaptive-data bench   --data DIR_OR_CSV [options]
//
// Exit codes: 0 ok, 1 runtime failure (bad data, I/O), 2 usage error.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include <cxxopts.hpp>

#include "common/cli.h"
#include "common/clock.h"
#include "datasets/data_loader.h"
#include "datasets/errors.h"
#include "datasets/frame_source.h"
#include "datasets/synth_gestures.h"
#include "datasets/timeline.h"

namespace {

using namespace adaptive;

// The class list file named by --classes, if any.
std::optional<std::vector<std::string>> class_list(const std::string& path) {
  if (path.empty()) return std::nullopt;
  return read_class_list(path);
}

void parse_size(const std::string& text, int& w, int& h) {
  if (std::sscanf(text.c_str(), "%dx%d", &w, &h) != 2) {
    throw UsageError("--size: expected WIDTHxHEIGHT, e.g. 160x120, got '" + text + "'");
  }
}

int synth(int argc, char** argv) {
  cxxopts::Options cli("adaptive-data synth",
                       "Render the synthetic gesture dataset (clips and streams).");
  SynthOptions o;
  cli.add_options()("out", "output folder (must not exist unless --overwrite)",
                    cxxopts::value<std::string>())(
      "seed", "random seed", cxxopts::value<uint64_t>()->default_value(std::to_string(o.seed)))(
      "train-per-class", "training clips per class",
      cxxopts::value<int>()->default_value(std::to_string(o.train_per_class)))(
      "val-per-class", "validation clips per class",
      cxxopts::value<int>()->default_value(std::to_string(o.val_per_class)))(
      "test-per-class", "test clips per class",
      cxxopts::value<int>()->default_value(std::to_string(o.test_per_class)))(
      "size", "frame size WIDTHxHEIGHT", cxxopts::value<std::string>()->default_value("160x120"))(
      "frames", "frames per clip", cxxopts::value<int>()->default_value(std::to_string(o.frames)))(
      "fps", "frame rate", cxxopts::value<double>()->default_value("16"))(
      "train-streams", "long stream videos with a timeline, to train on (data.train_streams)",
      cxxopts::value<int>()->default_value(std::to_string(o.train_streams)))(
      "val-streams", "the same, to tune policies on",
      cxxopts::value<int>()->default_value(std::to_string(o.val_streams)))(
      "test-streams", "the same, to report on",
      cxxopts::value<int>()->default_value(std::to_string(o.test_streams)))(
      "stream-seconds", "length of each stream", cxxopts::value<double>()->default_value("40"))(
      "max-difficulty", "spread clip difficulty over [0, this]",
      cxxopts::value<double>()->default_value("1"))("threads", "render threads (0: all cores)",
                                                    cxxopts::value<int>()->default_value("0"))(
      "overwrite", "replace an existing output folder")("h,help", "show this help");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (!args.count("out")) throw UsageError("--out DIR is required");
  o.out_dir = args["out"].as<std::string>();
  o.seed = args["seed"].as<uint64_t>();
  o.train_per_class = args["train-per-class"].as<int>();
  o.val_per_class = args["val-per-class"].as<int>();
  o.test_per_class = args["test-per-class"].as<int>();
  parse_size(args["size"].as<std::string>(), o.width, o.height);
  o.frames = args["frames"].as<int>();
  o.fps = args["fps"].as<double>();
  o.train_streams = args["train-streams"].as<int>();
  o.val_streams = args["val-streams"].as<int>();
  o.test_streams = args["test-streams"].as<int>();
  o.stream_seconds = args["stream-seconds"].as<double>();
  o.threads = args["threads"].as<int>();
  o.max_difficulty = args["max-difficulty"].as<double>();
  o.overwrite = args.count("overwrite") > 0;

  const SynthSummary s =
      generate_synth_gestures(o, [](const std::string& line) { std::cerr << line << "\n"; });
  std::printf("synthetic gestures in %s (seed %llu, %.1f s)\n", o.out_dir.c_str(),
              static_cast<unsigned long long>(o.seed), s.seconds);
  std::printf("  classes  %zu: ", s.classes.size());
  for (size_t i = 0; i < s.classes.size(); ++i)
    std::printf("%s%s", i ? ", " : "", s.classes[i].c_str());
  std::printf(
      "\n  clips    train %lld, val %lld, test %lld  (%dx%d, %d frames at %.0f fps, MJPG .avi)\n",
      static_cast<long long>(s.clips[0]), static_cast<long long>(s.clips[1]),
      static_cast<long long>(s.clips[2]), o.width, o.height, o.frames, o.fps);
  std::printf(
      "  streams  train %lld, val %lld, test %lld, %.0f s each, timelines in "
      "streams/{train,val,test}/*.json\n",
      static_cast<long long>(s.train_streams), static_cast<long long>(s.val_streams),
      static_cast<long long>(s.test_streams), o.stream_seconds);
  std::printf("  total    %lld frames, %.1f MB\n", static_cast<long long>(s.frames), s.bytes / 1e6);
  std::printf("  files    classes.txt, {train,val,test}.csv (path,label,difficulty), synth.json\n");
  return 0;
}

int inspect(int argc, char** argv) {
  cxxopts::Options cli("adaptive-data inspect",
                       "Summarise a dataset (folder-per-class or CSV manifest).");
  cli.add_options()("data", "dataset folder or .csv manifest", cxxopts::value<std::string>())(
      "classes", "class list file fixing label order",
      cxxopts::value<std::string>()->default_value(""))(
      "check", "decode every sample and report the bad ones")(
      "allow-outside-root", "a manifest may list paths outside its folder")(
      "timeline", "summarise a stream's ground-truth timeline (.json) instead",
      cxxopts::value<std::string>())("h,help", "show this help");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (args.count("timeline")) {
    const std::string path = args["timeline"].as<std::string>();
    const auto segments = read_timeline(path);
    std::string gestures;
    int n = 0;
    for (const auto& s : segments) {
      if (s.label == "no_gesture") continue;
      gestures += (n++ ? ", " : "") + s.label;
    }
    std::printf("%s: %.1f s, %zu segments, %d gestures: %s\n", path.c_str(),
                segments.empty() ? 0.0 : segments.back().end_s, segments.size(), n,
                gestures.c_str());
    return 0;
  }
  if (!args.count("data")) throw UsageError("--data PATH (or --timeline FILE) is required");
  const DatasetIndex index = open_dataset_index(
      args["data"].as<std::string>(), class_list(args["classes"].as<std::string>()),
      ManifestRules{args.count("allow-outside-root") > 0});
  std::printf("%s: %zu samples, %zu classes\n", index.source.c_str(), index.samples.size(),
              index.classes.size());
  const auto counts = index.class_counts();
  std::map<int, std::pair<double, int>> difficulty;  // label -> (sum, n)
  for (const auto& s : index.samples) {
    auto it = s.extra.find("difficulty");
    if (it != s.extra.end()) {
      difficulty[s.label].first += std::atof(it->second.c_str());
      ++difficulty[s.label].second;
    }
  }
  for (size_t c = 0; c < index.classes.size(); ++c) {
    std::printf("  %-14s %6lld", index.classes[c].c_str(), static_cast<long long>(counts[c]));
    if (difficulty.count(int(c)))
      std::printf("   mean difficulty %.2f", difficulty[int(c)].first / difficulty[int(c)].second);
    std::printf("\n");
  }
  if (args.count("check")) {
    int64_t bad = 0, frames = 0;
    for (const auto& s : index.samples) {
      try {
        auto source = open_frame_source(s.path);
        frames +=
            static_cast<int64_t>(decode_frames(*source, s.start_frame, s.end_frame).frames.size());
      } catch (const BadSampleError& e) {
        std::printf("  bad: %s\n", e.what());
        ++bad;
      }
    }
    std::printf("checked %zu samples: %lld bad, %lld frames decoded\n", index.samples.size(),
                static_cast<long long>(bad), static_cast<long long>(frames));
    return bad ? 1 : 0;
  }
  return 0;
}

int bench(int argc, char** argv) {
  cxxopts::Options cli("adaptive-data bench",
                       "Clips/s of decode + sample + transform + batch, at 1 and 2 workers, with "
                       "and without the cache.");
  cli.add_options()("data", "dataset folder or .csv manifest", cxxopts::value<std::string>())(
      "classes", "class list file", cxxopts::value<std::string>()->default_value(""))(
      "clips", "clips per measurement (0: the whole dataset)",
      cxxopts::value<int>()->default_value("400"))("frames", "frames per clip (T)",
                                                   cxxopts::value<int>()->default_value("8"))(
      "stride", "frame stride", cxxopts::value<double>()->default_value("2"))(
      "short-side", "resize short side to", cxxopts::value<int>()->default_value("128"))(
      "crop", "square crop size", cxxopts::value<int>()->default_value("112"))(
      "batch", "batch size", cxxopts::value<int>()->default_value("8"))("h,help", "show this help");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (!args.count("data")) throw UsageError("--data PATH is required");
  DatasetIndex index = open_dataset_index(args["data"].as<std::string>(),
                                          class_list(args["classes"].as<std::string>()));
  const int clips = args["clips"].as<int>();
  if (clips > 0 && static_cast<size_t>(clips) < index.samples.size()) index.samples.resize(clips);

  VideoClipDatasetOptions base;
  base.sampler.frames = args["frames"].as<int>();
  base.sampler.frame_stride = args["stride"].as<double>();
  base.transform.short_side = args["short-side"].as<int>();
  base.transform.crop_height = base.transform.crop_width = args["crop"].as<int>();

  std::printf("data pipeline: %zu clips of %d x %dx%d (stride %.1f), batch %d, training mode\n",
              index.samples.size(), base.sampler.frames, base.transform.crop_width,
              base.transform.crop_height, base.sampler.frame_stride, args["batch"].as<int>());
  {  // One untimed pass so that every configuration reads files from the page cache.
    DataLoaderOptions lo;
    lo.workers = 2;
    DataLoader warmup(std::make_shared<VideoClipDataset>(index, base), lo);
    warmup.start_epoch(0);
    while (warmup.next()) {
    }
  }
  std::printf("%-8s %-12s %10s %10s\n", "workers", "cache", "clips/s", "seconds");
  for (bool cache : {false, true}) {
    for (int workers : {1, 2}) {
      VideoClipDatasetOptions o = base;
      o.cache_mb = cache ? 8192 : 0;
      auto dataset = std::make_shared<VideoClipDataset>(index, o);
      DataLoaderOptions lo;
      lo.batch_size = args["batch"].as<int>();
      lo.workers = workers;
      DataLoader loader(dataset, lo);
      // With the cache, a first epoch fills it and the next five are measured.
      loader.start_epoch(0);
      if (cache) {
        while (loader.next()) {
        }
      }
      const int epochs = cache ? 5 : 1;
      int64_t n = 0;
      const auto t0 = Clock::now();
      for (int epoch = cache ? 1 : 0; epoch < (cache ? 1 : 0) + epochs; ++epoch) {
        loader.start_epoch(epoch);
        while (auto batch = loader.next()) n += batch->clips.size(0);
      }
      const double s = seconds_since(t0);
      std::printf("%-8d %-12s %10.1f %10.2f\n", workers, cache ? "warm" : "off", n / s, s);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return adaptive::run_subcommands(
      "adaptive-data", argc, argv,
      {{"synth", "render the synthetic gesture dataset", synth},
       {"inspect", "summarise a dataset (and --check that every sample decodes)", inspect},
       {"bench", "measure data-pipeline throughput", bench}});
}

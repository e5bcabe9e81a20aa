// adaptive-infer on live sources, over loopback only: Debian's ffmpeg serves
// the tiny dataset's stream video as HTTP MPEG-TS at its own frame rate
// (-re), as scripts/setup.sh installs it; a camera where one exists.
#include <chrono>
#include <filesystem>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>

#include "common/clock.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::Process;
using adaptive::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string& model_path() {
  static const std::string path = test::tiny_trained_run() + "/model.pt";
  return path;
}
std::string stream_video() {
  return test::tiny_synth_dataset() + "/streams/test/stream_000.avi";  // 96 frames at 16 fps
}

bool have_ffmpeg() {
  if (test::run_command("command -v ffmpeg", 10).rc == 0) return true;
  test::skip("no ffmpeg (scripts/setup.sh installs it)");
  return false;
}

// ffmpeg serving `video` (`loops` times over) to one client at
// http://127.0.0.1:PORT/live.ts, at the video's own rate.
class StreamServer {
 public:
  StreamServer(int port, const std::string& video, int loops = 1)
      : url_("http://127.0.0.1:" + std::to_string(port) + "/live.ts"),
        process_("ffmpeg -nostdin -loglevel error -re -stream_loop " + std::to_string(loops - 1) +
                 " -i " + video + " -c:v mpeg4 -q:v 4 -f mpegts -listen 1 " + url_) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    // A client already retrying (--reconnect) may connect between two
    // looks, and ffmpeg's -listen 1 then stops listening: an accepted
    // connection counts as up.
    while (!test::port_serving(port) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    INFO(process_.err());
    REQUIRE(test::port_serving(port));
  }
  const std::string& url() const { return url_; }
  void kill() {
    process_.signal(SIGKILL);
    process_.wait(10);
  }

 private:
  std::string url_;
  Process process_;
};

std::string infer_command(const std::string& args) {
  return std::string(ADAPTIVE_INFER) + " --quiet --model " + model_path() + " " + args;
}

json summary_of(const std::string& lines) {
  json last;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') last = json::parse(line);
  REQUIRE(last.value("type", "") == "summary");
  return last;
}

// The first line adaptive-infer prints, which must be a window.
json first_window(Process& run) {
  const auto line = run.read_line(60);
  INFO(run.err());
  REQUIRE(line.has_value());
  const json j = json::parse(*line);
  REQUIRE(j.value("type", "") == "window");
  return j;
}

}  // namespace

TEST_CASE("a stream served over HTTP is read live, each window's line flushed as it is decided",
          "[infer][live][cli][slow]") {
  if (!have_ffmpeg()) return;
  const auto file_run = test::run_command(infer_command("--input " + stream_video()));
  REQUIRE(file_run.rc == 0);
  const json from_file = summary_of(file_run.output);

  const int port = test::free_local_port();
  StreamServer server(port, stream_video());
  Process run(infer_command("--input " + server.url()));
  const json window = first_window(run);
  // Printed while the stream still plays: the line was not held back.
  CHECK(run.running());
  CHECK(window.contains("delay_ms"));
  CHECK(window["dropped_before"] == 0);
  const std::string rest = run.read_rest(60);
  CHECK(run.wait(30) == 0);
  const std::string err = run.err();
  INFO(err);
  const json summary = summary_of(rest);
  // Every frame arrived, at the rate the timestamps give (the stream reports
  // its 90 kHz clock as its frame rate), cut into the file's windows.
  CHECK(summary["frames"] == 96);
  CHECK(summary["duration_s"].get<double>() == Approx(6.0).margin(0.01));
  CHECK(summary["windows"] == from_file["windows"]);
  REQUIRE(summary.contains("live"));
  CHECK(summary["live"]["reconnects"] == 0);
  CHECK(summary["live"]["deadline_ms"].get<double>() > 0);
  CHECK_THAT(err, Catch::Contains(server.url() + ": the stream ended after 96 frames"));
}

TEST_CASE("a stream whose server dies mid-way ends with a summary of what arrived",
          "[infer][live][cli][slow]") {
  if (!have_ffmpeg()) return;
  const int port = test::free_local_port();
  StreamServer server(port, stream_video(), 4);  // 24 s
  Process run(infer_command("--input " + server.url()));
  first_window(run);
  server.kill();
  const auto killed = Clock::now();
  const std::string rest = run.read_rest(30);
  CHECK(run.wait(30) == 0);
  CHECK(seconds_since(killed) < 15);
  INFO(run.err());
  const json summary = summary_of(rest);
  CHECK(summary["frames"].get<int>() < 4 * 96);
  CHECK(summary["windows"].get<int>() >= 1);
  CHECK_THAT(run.err(), Catch::Contains("the stream ended after"));
}

TEST_CASE("a stream that stops is reopened with --reconnect, then given up with a clear message",
          "[infer][live][cli][slow]") {
  if (!have_ffmpeg()) return;
  const int port = test::free_local_port();
  auto first = std::make_unique<StreamServer>(port, stream_video(), 4);
  const std::string url = first->url();
  Process run(infer_command("--input " + url + " --reconnect 4"));
  first_window(run);
  first.reset();  // killed: the stream stops mid-way
  // A new server on the same address, playing the 6 s video once.
  StreamServer second(port, stream_video());
  const std::string rest = run.read_rest(90);
  CHECK(run.wait(60) == 0);
  const std::string err = run.err();
  INFO(err);
  const json summary = summary_of(rest);
  CHECK(summary["live"]["reconnects"] == 1);
  CHECK(summary["frames"].get<int>() > 96);  // some of the first stream and all of the second
  // When the second stream ended, 4 attempts found nothing listening.
  CHECK_THAT(err, Catch::Contains("4 reconnect attempts failed") &&
                      Catch::Contains("adaptive-infer: warning: " + url));
  CHECK(summary["warning"].get<std::string>().find("reconnect attempts failed") !=
        std::string::npos);
}

TEST_CASE("a stream address where nothing listens or nothing answers fails within the timeout",
          "[infer][live][cli][bad-input][slow]") {
  TempDir dir;
  // Nothing listens: refused at once.
  const std::string refused =
      "http://127.0.0.1:" + std::to_string(test::free_local_port()) + "/live.ts";
  auto started = Clock::now();
  auto r = test::run_command(
      infer_command("--input " + refused + " --output " + dir.str("out.jsonl")), 60);
  INFO(r.output);
  CHECK(r.rc == 1);
  CHECK_THAT(r.output, Catch::Contains("adaptive-infer: error: " + refused +
                                       ": cannot open the stream within 5.0 s"));
  CHECK(seconds_since(started) < 30);
  CHECK_FALSE(fs::exists(dir.str("out.jsonl")));  // nothing written

  // A server that accepts connections and never answers: the connect
  // timeout ends the wait.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string silent = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x.ts";
  started = Clock::now();
  r = test::run_command(infer_command("--input " + silent + " --connect-timeout 1"), 60);
  const double waited = seconds_since(started);
  ::close(fd);
  INFO(r.output);
  CHECK(r.rc == 1);
  CHECK_THAT(r.output, Catch::Contains(silent + ": cannot open the stream within 1.0 s"));
  CHECK(waited >= 1.0);
  CHECK(waited < 30);  // bounded: no hang
}

TEST_CASE("a file with --realtime is delivered at its own frame rate", "[infer][live][cli][slow]") {
  const auto started = Clock::now();
  const auto r = test::run_command(infer_command("--input " + stream_video() + " --realtime"), 60);
  const double took = seconds_since(started);
  INFO(r.output);
  REQUIRE(r.rc == 0);
  const json summary = summary_of(r.output);
  CHECK(took >= 5.9);  // 96 frames at 16 fps: frame 95 comes 5.94 s after frame 0
  CHECK(summary["wall_s"].get<double>() >= 5.9);
  REQUIRE(summary.contains("live"));
  // Every width ran on a blank clip before the first window (engine.cpp start_run).
  CHECK(summary["warmup_s"].get<double>() > 0);
  // With the default threads each width got its own count, one or all cores.
  const json& threads = summary["threads_per_width"];
  REQUIRE(threads.size() == 2);
  for (const auto& t : threads) CHECK((t == 1 || t == std::thread::hardware_concurrency()));
  // Given --threads, every pass runs on them: no choice is made.
  const auto fixed =
      test::run_command(infer_command("--input " + stream_video() + " --realtime --threads 1"), 60);
  REQUIRE(fixed.rc == 0);
  CHECK_FALSE(summary_of(fixed.output).contains("threads_per_width"));
  // Dropping (when a run is slower than its source) is tested with a
  // deliberately slow consumer in adaptive_infer_test.cpp (the engine) and
  // window_reader_test.cpp (the reader); this run keeps up
  // or not as the machine allows, but every frame is accounted for.
  CHECK(summary["frames"] == 96);
  CHECK_THAT(r.output, !Catch::Contains("the stream ended"));  // a file is not a stream
  // Not paced, the same file warms up and chooses each width's threads too,
  // timed back to back (compute_threads.h).
  const auto unpaced = test::run_command(infer_command("--input " + stream_video()), 60);
  REQUIRE(unpaced.rc == 0);
  const json file_summary = summary_of(unpaced.output);
  CHECK_FALSE(file_summary.contains("live"));
  CHECK(file_summary["warmup_s"].get<double>() > 0);
  REQUIRE(file_summary["threads_per_width"].size() == 2);
}

TEST_CASE("SIGINT ends a live run cleanly: summary written, overlay playable",
          "[infer][live][cli][signals][slow]") {
  if (!have_ffmpeg()) return;
  TempDir dir;
  const int port = test::free_local_port();
  StreamServer server(port, stream_video(), 4);  // 24 s
  const std::string results = dir.str("results.jsonl"), overlay = dir.str("overlay.avi");
  Process run(
      infer_command("--input " + server.url() + " --output " + results + " --overlay " + overlay));
  // Lines reach the file as they are decided: wait for three.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  auto lines = [&] {
    const std::string text = test::read_file(results);
    return std::count(text.begin(), text.end(), '\n');
  };
  while (lines() < 3 && run.running() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(lines() >= 3);
  REQUIRE(run.running());
  run.signal(SIGINT);
  const auto signalled = Clock::now();
  const int rc = run.wait(30);
  INFO(run.err());
  CHECK(rc == 128 + SIGINT);
  CHECK(seconds_since(signalled) < 10);
  CHECK_THAT(run.err(), Catch::Contains("stopped by signal 2"));
  const json summary = summary_of(test::read_file(results));
  CHECK(summary["stopped"] == true);
  CHECK(summary["frames"].get<int>() < 4 * 96);
  // The overlay is whole and holds a frame for every frame the windows covered.
  cv::VideoCapture video(overlay, cv::CAP_FFMPEG);
  REQUIRE(video.isOpened());
  int frames = 0;
  for (cv::Mat f; video.read(f);) ++frames;
  CHECK(frames >= 3);
  int64_t last_end = -1;
  std::istringstream in(test::read_file(results));
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    if (j["type"] == "window") last_end = j["end_frame"].get<int64_t>();
  }
  CHECK(frames == last_end + 1);
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().string().find(".tmp") == std::string::npos);
}

TEST_CASE("a camera that does not exist is named, exit 1", "[infer][live][cli][camera][slow]") {
  for (const std::string input : {"/dev/video999", "999"}) {
    const auto missing = test::run_command(infer_command("--input " + input), 60);
    INFO(missing.output);
    CHECK(missing.rc == 1);
    CHECK_THAT(missing.output,
               Catch::Contains(input + ": no such camera (/dev/video999 does not exist)"));
  }
}

TEST_CASE("a camera is read live until SIGINT", "[infer][live][cli][camera]") {
  if (!fs::exists("/dev/video0")) {
    test::skip_without_hardware("no camera at /dev/video0: the live camera run was not tried");
    return;
  }
  Process run(infer_command("--input /dev/video0"));
  first_window(run);
  run.signal(SIGINT);
  CHECK(run.wait(30) == 128 + SIGINT);
}

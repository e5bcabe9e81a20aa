// adaptive-bench as a user runs it: a row per width whose figures agree with
// the model and with each other, the live-like idle gap recorded, a plain
// single-width file timed beside its width, a stream's step and rebuild for
// a model that streams, bad options refused.
#include "infer/model_artifact.h"

#include <nlohmann/json.hpp>
// Catch2 after LibTorch: both define CHECK, Catch2's must win.
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;

namespace {

std::string bench(const std::string& args) {
  return std::string(ADAPTIVE_BENCH) + " " + args;
}

}  // namespace

TEST_CASE("adaptive-bench times every width, back to back or after an idle gap",
          "[infer][bench][cli][slow]") {
  test::TempDir dir;
  const std::string run = test::tiny_trained_run();
  const std::string model = run + "/model.pt";
  const ModelArtifact artifact = ModelArtifact::load(model);
  const auto& widths = artifact.metadata().widths;
  REQUIRE(widths.size() == 2);
  // A plain file of the narrow width: the same checkpoint exported at that width alone.
  const std::string plain = dir.str("plain_05.pt");
  const auto exported =
      test::run_command(std::string(ADAPTIVE_TRAIN) + " export --checkpoint " + run +
                        "/checkpoints/final.pt --out " + plain + " --widths 0.5");
  INFO(exported.output);
  REQUIRE(exported.rc == 0);

  for (const double gap : {0.0, 5.0}) {
    INFO("gap " << gap << " ms");
    const std::string out = dir.str("bench.json");
    const auto r = test::run_command(bench("--model " + model + " --plain 0.5=" + plain +
                                           " --runs 5 --warmup 1 --gap-ms " + std::to_string(gap) +
                                           " --json " + out));
    INFO(r.output);
    REQUIRE(r.rc == 0);
    CHECK(r.output.find("1 thread(s), 5 runs per width after 1 warm-up") != std::string::npos);
    CHECK(r.output.find("ms idle before each") != std::string::npos);
    CHECK(r.output.find("narrowest width: ") != std::string::npos);
    const auto j = nlohmann::json::parse(test::read_file(out));
    CHECK(j["threads"] == 1);
    CHECK(j["runs"] == 5);
    CHECK(j["gap_ms"].get<double>() == Approx(gap));
    CHECK(j["matmul_gflops_per_s"].get<double>() > 0);
    REQUIRE(j["widths"].size() == widths.size());
    for (size_t i = 0; i < widths.size(); ++i) {
      const auto& w = j["widths"][i];
      INFO("width " << w.dump());
      CHECK(w["width"].get<double>() == Approx(widths[i].width));
      CHECK(w["mflops"].get<double>() == Approx(widths[i].mflops));
      const double ms = w["latency_ms"].get<double>();
      CHECK(ms > 0);
      CHECK(w["latency_p90_ms"].get<double>() >= ms);
      CHECK(w["cpu_ms"].get<double>() > 0);
      CHECK(w["gflops_per_s"].get<double>() == Approx(widths[i].mflops / ms));
      CHECK(w["latency_ratio"].get<double>() ==
            Approx(ms / j["widths"][1]["latency_ms"].get<double>()));
      CHECK(w["mflops_ratio"].get<double>() == Approx(widths[i].mflops / widths[1].mflops));
    }
    // The plain file is timed beside its width, and only there.
    CHECK(j["widths"][0]["plain_latency_ms"].get<double>() > 0);
    CHECK(j["widths"][1]["plain_latency_ms"].is_null());
    CHECK(j["widths"][1]["latency_ratio"].get<double>() == Approx(1.0));
    CHECK(j["widths"][0]["mflops_ratio"].get<double>() < 1);
    // The tiny run is not causal: no stream figures.
    CHECK(j["widths"][0]["stream"].is_null());
    CHECK(r.output.find("step ms") == std::string::npos);
  }

  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"--gap-ms -1", "gap_ms must be >= 0"},
           {"--runs 0", "runs must be >= 1, got 0"},
           {"--plain 0.75=" + plain, "--plain: width 0.75 is not in the model"},
           {"--plain 1.0=" + plain, "is not a single-width file of width 1.0"},
           {"--plain " + plain, "--plain expects W=FILE"}}) {
    INFO(args);
    const auto bad = test::run_command(bench("--model " + model + " " + args));
    INFO(bad.output);
    CHECK(bad.rc == 2);
    CHECK(bad.output.find(message) != std::string::npos);
    CHECK(bad.output.find("thread(s)") == std::string::npos);  // refused before any timing
  }
}

TEST_CASE("adaptive-bench times a stream's step and rebuild per width for a model that streams",
          "[infer][bench][cli][stream][slow]") {
  test::TempDir dir;
  const std::string model = test::tiny_causal_run() + "/model.pt";
  const ModelArtifact artifact = ModelArtifact::load(model);
  REQUIRE(artifact.metadata().streams);
  const auto& widths = artifact.metadata().widths;
  const std::string out = dir.str("bench.json");
  const auto r =
      test::run_command(bench("--model " + model + " --runs 5 --warmup 1 --json " + out));
  INFO(r.output);
  REQUIRE(r.rc == 0);
  CHECK(r.output.find("step ms") != std::string::npos);
  CHECK(r.output.find("narrowest step: ") != std::string::npos);
  const auto j = nlohmann::json::parse(test::read_file(out));
  REQUIRE(j["widths"].size() == widths.size());
  const auto& widest = j["widths"].back()["stream"];
  for (size_t i = 0; i < widths.size(); ++i) {
    const auto& s = j["widths"][i]["stream"];
    INFO("width " << j["widths"][i].dump());
    REQUIRE(s.is_object());
    CHECK(s["step_mflops"].get<double>() == Approx(widths[i].step_mflops));
    const double step = s["step_ms"].get<double>();
    CHECK(step > 0);
    CHECK(s["step_p90_ms"].get<double>() >= step);
    CHECK(s["step_cpu_ms"].get<double>() > 0);
    CHECK(s["step_ratio"].get<double>() == Approx(step / widest["step_ms"].get<double>()));
    CHECK(s["rebuild_ms"].get<double>() > 0);
  }
}

#include "infer/throttle.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

using namespace adaptive;

namespace {

const std::vector<double> kWidths = {0.25, 0.5, 1.0};
const std::vector<double> kMflops = {10, 20, 40};

ThrottleOptions confidence_options() {
  ThrottleOptions o;
  o.policy = PolicyKind::kConfidence;
  o.threshold = 0.8;
  o.rerun = true;
  o.dwell = 2;
  o.hysteresis = 0.05;
  o.quality.enabled = false;
  o.futility_gain = 0;  // the futility rule has cases of its own
  return o;
}

// A scripted pass: its calibrated confidence and the label it names.
struct Scripted {
  Scripted(double c, int l = 1) : confidence(c), label(l) {}
  double confidence;
  int label;
};

// One window: begin, then passes with the scripted answers until the
// throttle stops asking for wider ones (the last answer repeats). Returns the
// plans in order.
std::vector<Plan> run_window(Throttle& t, const std::vector<Scripted>& answers,
                             WindowSignals s = {}, bool idle = false) {
  std::vector<Plan> plans = {t.begin(s)};
  double spent = kMflops[plans.back().index];
  size_t i = 0;
  while (true) {
    const Scripted a = answers.at(std::min(i++, answers.size() - 1));
    const PassOutcome pass{plans.back().index, a.confidence, idle ? 0 : a.label, idle};
    const auto next = t.after(pass);
    if (!next) {
      t.finish(pass, spent);
      return plans;
    }
    plans.push_back(*next);
    spent += kMflops[next->index];
  }
}

}  // namespace

TEST_CASE("confidence policy: escalates a window until sure, then dwells and steps down",
          "[infer][throttle]") {
  Throttle t(confidence_options(), kWidths, kMflops);
  auto plans = run_window(t, {0.5, 0.6, 0.9});
  REQUIRE(plans.size() == 3);
  CHECK(plans[0].index == 0);
  CHECK(plans[0].decision == Decision::kStart);
  CHECK(plans[1].index == 1);
  CHECK(plans[1].decision == Decision::kEscalate);
  CHECK(plans[2].index == 2);
  // The next window starts where the last one was sure.
  plans = run_window(t, {0.84});  // sure, but not by the hysteresis margin: no dwell count
  CHECK(plans.front().index == 2);
  CHECK(plans.front().decision == Decision::kConfident);
  plans = run_window(t, {0.9});  // first window sure by the margin
  CHECK(plans.front().index == 2);
  plans = run_window(t, {0.95});  // second: the dwell is reached
  CHECK(plans.front().index == 2);
  plans = run_window(t, {0.95});
  CHECK(plans.front().index == 1);
  CHECK(plans.front().decision == Decision::kStepDown);
  // A window that is unsure again escalates at once.
  plans = run_window(t, {0.3, 0.9});
  CHECK(plans.size() == 2);
  CHECK(plans.back().index == 2);
}

TEST_CASE("confidence policy: hysteresis keeps a borderline width from flapping",
          "[infer][throttle]") {
  Throttle t(confidence_options(), kWidths, kMflops);
  run_window(t, {0.5, 0.9});     // escalated to index 1
  for (int i = 0; i < 6; ++i) {  // sure, but within the hysteresis band: stays
    const auto plans = run_window(t, {0.82});
    CHECK(plans.size() == 1);
    CHECK(plans.front().index == 1);
  }
}

TEST_CASE("confidence policy: 'next' escalation widens from the next window", "[infer][throttle]") {
  ThrottleOptions o = confidence_options();
  o.rerun = false;
  Throttle t(o, kWidths, kMflops);
  auto plans = run_window(t, {0.5});
  CHECK(plans.size() == 1);  // no re-run
  plans = run_window(t, {0.5});
  CHECK(plans.front().index == 1);
  CHECK(plans.front().decision == Decision::kEscalate);
  plans = run_window(t, {0.9});
  CHECK(plans.front().index == 2);
}

TEST_CASE(
    "confidence policy: the jump climb goes straight to the widest allowed and back to the "
    "narrowest",
    "[infer][throttle]") {
  for (const bool rerun : {false, true}) {
    INFO("rerun " << rerun);
    ThrottleOptions o = confidence_options();
    o.rerun = rerun;
    o.climb = Climb::kJump;
    Throttle t(o, kWidths, kMflops);
    auto plans = run_window(t, {0.5, 0.9});  // unsure at the narrowest
    if (!rerun) plans = run_window(t, {0.9});
    CHECK(plans.back().index == 2);  // not the middle width
    CHECK(plans.back().decision == Decision::kEscalate);
    plans = run_window(t, {0.95});  // sure by the margin for `dwell` (2) windows
    CHECK(plans.front().index == 2);
    plans = run_window(t, {0.95});
    CHECK(plans.front().index == 0);
    CHECK(plans.front().decision == Decision::kStepDown);
    // The battery's cap bounds the jump.
    WindowSignals low;
    low.battery_pct = 25;  // default curve: <= 30% -> 0.5
    plans = run_window(t, {0.3, 0.3}, low);
    if (!rerun) plans = run_window(t, {0.3}, low);
    CHECK(plans.back().index == 1);
  }
  // Re-run: a jump the window's budget cannot pay for falls short, to the
  // widest width it can (a bucket of 40: 10 spent, 20 more fit, 40 not).
  ThrottleOptions budgeted = confidence_options();
  budgeted.climb = Climb::kJump;
  budgeted.budget_mflops_per_s = 400;
  budgeted.budget_horizon_s = 0.1;
  Throttle short_of_budget(budgeted, kWidths, kMflops);
  const auto fell_short = run_window(short_of_budget, {0.5, 0.9});
  REQUIRE(fell_short.size() == 2);
  CHECK(fell_short.back().index == 1);
  CHECK(fell_short.back().decision == Decision::kEscalate);

  // The step climb, the default, moves one width.
  ThrottleOptions o = confidence_options();
  CHECK(o.climb == Climb::kStep);
  Throttle t(o, kWidths, kMflops);
  const auto plans = run_window(t, {0.5, 0.9});
  CHECK(plans.back().index == 1);
  CHECK(climb_names().name(Climb::kJump) == "jump");
  CHECK_THROWS_WITH(climb_names().parse("sideways"),
                    Catch::Contains("sideways") && Catch::Contains("step"));
}

TEST_CASE("disagreement: a narrower width naming another gesture sends the width back up",
          "[infer][throttle]") {
  ThrottleOptions o = confidence_options();
  o.rerun = false;
  o.dwell = 1;
  o.disagree_hold = 3;
  Throttle t(o, kWidths, kMflops);
  run_window(t, {0.5});                    // unsure at the narrowest: widen
  run_window(t, {{0.9, 4}});               // sure at 0.5 of gesture 4: step down
  auto plans = run_window(t, {{0.9, 5}});  // the narrowest, sure of gesture 5
  CHECK(plans.front().index == 0);
  CHECK(plans.front().decision == Decision::kStepDown);
  // Back up to the width that said 4, and held there while it keeps saying 4.
  for (int i = 0; i < 2; ++i) {
    plans = run_window(t, {{0.95, 4}});
    CHECK(plans.front().index == 1);
    CHECK(plans.front().decision == Decision::kDisagree);
  }
  plans = run_window(t, {{0.95, 4}});  // the hold's last window: stepping down resumes
  CHECK(plans.front().index == 1);
  CHECK(plans.front().decision == Decision::kDisagree);
  plans = run_window(t, {{0.95, 4}});
  CHECK(plans.front().index == 0);
  CHECK(plans.front().decision == Decision::kStepDown);
}

TEST_CASE(
    "disagreement: an answer the narrower width shares, an idle label, or the rule off "
    "step down as before",
    "[infer][throttle]") {
  for (const int hold : {0, 8}) {
    ThrottleOptions o = confidence_options();
    o.rerun = false;
    o.dwell = 1;
    o.disagree_hold = hold;
    Throttle t(o, kWidths, kMflops);
    run_window(t, {0.5});
    run_window(t, {{0.9, 4}});                          // step down
    auto plans = run_window(t, {{0.9, hold ? 4 : 5}});  // agrees (or the rule is off)
    CHECK(plans.front().index == 0);
    plans = run_window(t, {{0.9, 6}});  // the same width as the last: no disagreement
    CHECK(plans.front().index == 0);
    CHECK(plans.front().decision != Decision::kDisagree);
  }
  ThrottleOptions o = confidence_options();
  o.rerun = false;
  o.dwell = 1;
  Throttle t(o, kWidths, kMflops);
  run_window(t, {0.5});
  run_window(t, {{0.9, 4}});
  run_window(t, {0.9}, {}, /*idle=*/true);  // the narrowest, sure nothing happens
  const auto plans = run_window(t, {0.9});
  CHECK(plans.front().index == 0);
  CHECK(plans.front().decision == Decision::kIdle);
}

TEST_CASE("disagreement in re-run mode: the window is re-run at the width it disagrees with",
          "[infer][throttle]") {
  ThrottleOptions o = confidence_options();
  o.dwell = 1;
  o.disagree_hold = 2;
  Throttle t(o, kWidths, kMflops);
  run_window(t, {0.5, 0.5, 0.84});          // climbs to the widest, sure of gesture 1
  auto plans = run_window(t, {{0.95, 1}});  // sure by the margin: step down
  // At 0.5 it names 2: re-run at the widest, which says 1 again and is held.
  plans = run_window(t, {{0.95, 2}, {0.95, 1}});
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].index == 1);
  CHECK(plans[1].index == 2);
  CHECK(plans[1].decision == Decision::kDisagree);
  plans = run_window(t, {{0.95, 1}});  // the hold's second window
  CHECK(plans.front().index == 2);
  CHECK(plans.front().decision == Decision::kDisagree);
  plans = run_window(t, {{0.95, 1}});
  CHECK(plans.front().index == 1);
  CHECK(plans.front().decision == Decision::kStepDown);
  // Stepped down again, to the narrowest. A wider pass agreeing with the narrower one's new answer
  // holds nothing.
  plans = run_window(t, {{0.95, 2}, {0.84, 2}});
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].index == 0);
  CHECK(plans[1].index == 1);
  CHECK(plans[1].decision == Decision::kDisagree);
  plans = run_window(t, {{0.95, 2}});
  CHECK(plans.front().index == 1);
  CHECK(plans.front().decision == Decision::kConfident);
}

TEST_CASE("confidence policy: a sure idle label drops straight to the narrowest",
          "[infer][throttle]") {
  Throttle t(confidence_options(), kWidths, kMflops);
  run_window(t, {0.1, 0.1, 0.1});  // unsure up to the widest
  run_window(t, {0.9}, {}, /*idle=*/true);
  const auto plans = run_window(t, {0.9});
  CHECK(plans.front().index == 0);
  CHECK(plans.front().decision == Decision::kIdle);
}

TEST_CASE("idle stride: while sure nothing happens, one window in the stride runs",
          "[infer][throttle]") {
  ThrottleOptions o = confidence_options();
  o.idle_stride = 3;
  Throttle t(o, kWidths, kMflops);
  CHECK_FALSE(t.skip());  // nothing run yet
  run_window(t, {0.9}, {}, /*idle=*/true);
  CHECK(t.skip());
  CHECK(t.skip());
  CHECK_FALSE(t.skip());  // the third window runs
  run_window(t, {0.9}, {}, /*idle=*/true);
  CHECK(t.skip());  // still sure of idle: skipping again
  CHECK(t.skip());
  CHECK_FALSE(t.skip());
  run_window(t, {0.7}, {}, /*idle=*/true);  // idle, but under the threshold: every window runs
  CHECK_FALSE(t.skip());
  run_window(t, {0.9});  // a sure gesture: every window runs
  CHECK_FALSE(t.skip());

  ThrottleOptions fixed;  // the fixed policy runs every window
  fixed.policy = PolicyKind::kFixed;
  fixed.idle_stride = 3;
  Throttle f(fixed, kWidths, kMflops);
  f.begin({});
  f.finish({2, 0.99, 0, /*idle_label=*/true}, kMflops[2]);
  CHECK_FALSE(f.skip());

  ThrottleOptions gate;  // the gate policy skips as the confidence policy does
  gate.policy = PolicyKind::kGate;
  gate.idle_stride = 2;
  Throttle g(gate, kWidths, kMflops);
  g.begin({});
  g.finish({0, 0.9, 0, /*idle_label=*/true}, kMflops[0]);
  CHECK(g.skip());
  CHECK_FALSE(g.skip());
}

TEST_CASE("battery level caps every policy along its curve", "[infer][throttle]") {
  ThrottleOptions o = confidence_options();
  Throttle t(o, kWidths, kMflops);
  WindowSignals s;
  s.battery_pct = 25;  // default curve: <= 30% -> 0.5
  auto plans = run_window(t, {0.1}, s);
  REQUIRE(plans.size() == 2);  // escalates to the cap, not beyond
  CHECK(plans.back().index == 1);
  CHECK(t.cap() == 1);
  s.battery_pct = 10;  // <= 15% -> 0.25
  plans = run_window(t, {0.1}, s);
  CHECK(plans.front().index == 0);
  CHECK(plans.front().decision == Decision::kBattery);
  CHECK(plans.size() == 1);

  o.policy = PolicyKind::kFixed;
  Throttle fixed(o, kWidths, kMflops);
  s.battery_pct = 80;
  CHECK(fixed.begin(s).index == 2);
  s.battery_pct = 40;  // <= 50% -> 0.75: the widest allowed is 0.5
  const Plan p = fixed.begin(s);
  CHECK(p.index == 1);
  CHECK(p.decision == Decision::kBattery);
}

TEST_CASE("a compute budget keeps the running MFLOPs under it", "[infer][throttle]") {
  ThrottleOptions o;
  o.policy = PolicyKind::kFixed;
  o.budget_mflops_per_s = 300;  // bucket of 0.1 s = 30 MFLOPs
  o.budget_horizon_s = 0.1;
  Throttle t(o, kWidths, kMflops);
  WindowSignals s;
  s.start_s = 0;
  Plan p = t.begin(s);
  CHECK(p.index == 1);  // 40 > 30: the widest that fits
  CHECK(p.decision == Decision::kBudget);
  t.finish({p.index, 1.0, 1, false}, 20);  // 10 left
  s.start_s = 0.01;                        // +3 MFLOPs of budget
  p = t.begin(s);
  CHECK(p.index == 0);
  t.finish({p.index, 1.0, 1, false}, 10);
  s.start_s = 1.0;  // refilled to the bucket's size
  CHECK(t.begin(s).index == 1);
}

TEST_CASE("quality: dark or blurry windows run narrowest, and the gate's choice is capped",
          "[infer][throttle]") {
  ThrottleOptions o = confidence_options();
  o.quality.enabled = true;
  o.quality.still_below = 0.01;
  Throttle t(o, kWidths, kMflops);
  run_window(t, {0.1, 0.1, 0.9});  // at the widest now
  WindowSignals dark;
  dark.luma = 0.01;
  Plan p = t.begin(dark);
  CHECK(p.index == 0);
  CHECK(p.decision == Decision::kQuality);
  WindowSignals still;
  still.motion = 0.001;
  CHECK(t.begin(still).decision == Decision::kIdle);

  o.policy = PolicyKind::kGate;
  Throttle gate(o, kWidths, kMflops);
  WindowSignals s;
  p = gate.begin(s);  // no choice yet: a stream's first window runs narrowest
  CHECK(p.index == 0);
  CHECK(p.decision == Decision::kStart);
  s.gate_choice = 2;
  p = gate.begin(s);
  CHECK(p.index == 2);
  CHECK(p.decision == Decision::kGate);
  CHECK_FALSE(gate.after({2, 0.1, 1, false}));  // the gate decides alone
  s.battery_pct = 20;
  CHECK(gate.begin(s).decision == Decision::kBattery);
}

TEST_CASE("gate: a window sure of the idle label sends the next to the narrowest",
          "[infer][throttle][gate]") {
  ThrottleOptions o;
  o.policy = PolicyKind::kGate;
  o.threshold = 0.6;
  Throttle t(o, kWidths, kMflops);
  WindowSignals s;
  s.gate_choice = 2;
  Plan p = t.begin(s);
  CHECK(p.index == 2);
  t.finish({2, 0.9, 0, /*idle_label=*/true}, kMflops[2]);  // sure nothing happens
  p = t.begin(s);
  CHECK(p.index == 0);
  CHECK(p.decision == Decision::kIdle);
  t.finish({0, 0.5, 0, /*idle_label=*/true}, kMflops[0]);  // idle, but unsure: the gate decides
  p = t.begin(s);
  CHECK(p.index == 2);
  CHECK(p.decision == Decision::kGate);
  t.finish({2, 0.95, 1, /*idle_label=*/false}, kMflops[2]);  // a sure gesture: the gate decides
  CHECK(t.begin(s).decision == Decision::kGate);
  t.finish({2, 0.6, 0, /*idle_label=*/true}, kMflops[2]);  // at the threshold counts as sure
  CHECK(t.begin(s).decision == Decision::kIdle);
}

TEST_CASE("policy names and battery curves are checked", "[infer][throttle]") {
  CHECK_THROWS_WITH(parse_policy("greedy"),
                    "unknown policy 'greedy' (known: fixed, confidence, gate)");
  const auto curve = parse_battery_curve("40:0.5,10:0.25");
  REQUIRE(curve.size() == 2);
  CHECK(curve[1] == std::make_pair(10.0, 0.25));
  CHECK_THROWS_WITH(parse_battery_curve("40:0.5,ten:0.25"),
                    Catch::StartsWith("battery curve entry 'ten:0.25': expected PERCENT:WIDTH"));
  CHECK_THROWS_AS(parse_battery_curve("40:1.5"), std::invalid_argument);
}

TEST_CASE("throttle options out of range are refused, naming the option", "[infer][throttle]") {
  CHECK_NOTHROW(ThrottleOptions{}.validate());
  const auto refused = [](auto change, const std::string& message) {
    ThrottleOptions o;
    change(o);
    INFO(message);
    CHECK_THROWS_WITH(o.validate(), message);
    CHECK_THROWS_WITH(Throttle(o, kWidths, kMflops), message);
  };
  refused([](ThrottleOptions& o) { o.threshold = 1.5; }, "threshold must be in (0, 1], got 1.5");
  refused([](ThrottleOptions& o) { o.threshold = 0; }, "threshold must be in (0, 1], got 0");
  refused([](ThrottleOptions& o) { o.dwell = 0; }, "dwell must be >= 1, got 0");
  refused([](ThrottleOptions& o) { o.futility_gain = -0.1; },
          "futility_gain must be in [0, 1], got -0.1");
  refused([](ThrottleOptions& o) { o.futility_hold = 0; }, "futility_hold must be >= 1, got 0");
  refused([](ThrottleOptions& o) { o.disagree_hold = -1; }, "disagree_hold must be >= 0, got -1");
  refused([](ThrottleOptions& o) { o.idle_stride = 0; }, "idle_stride must be >= 1, got 0");
  refused([](ThrottleOptions& o) { o.budget_mflops_per_s = -5; },
          "budget_mflops_per_s must be >= 0, got -5");
  refused([](ThrottleOptions& o) { o.max_latency_ms = std::nan(""); },
          "max_latency_ms must be >= 0 (0: no deadline), got nan");
  refused(
      [](ThrottleOptions& o) {
        o.battery_curve = {{120, 0.5}};
      },
      "battery curve percent must be in [0, 100], got 120");
  refused([](ThrottleOptions& o) { o.quality.dark_below = 2; },
          "quality dark_below must be in [0, 1], got 2");
}

TEST_CASE("decisions print as the strings docs/inference-output.md lists", "[infer][throttle]") {
  // The documented list: "`decision` says why the width is what it is:
  // `start`, `escalate`, ... (see ...".
  const auto doc = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                   "docs" / "inference-output.md";
  std::ifstream in(doc);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const auto begin = all.find("`decision` says why the width is what it is:");
  REQUIRE(begin != std::string::npos);
  const std::string sentence = all.substr(begin, all.find("(see", begin) - begin);
  std::vector<std::string> documented;
  const std::regex quoted("`([a-z_]+)`");
  for (auto it = std::sregex_iterator(sentence.begin(), sentence.end(), quoted);
       it != std::sregex_iterator(); ++it) {
    if ((*it)[1] != "decision") documented.push_back((*it)[1]);
  }
  CHECK(documented == decision_names().names());
  CHECK(decision_names().name(Decision::kStepDown) == "step_down");
  CHECK(decision_names().parse("futile") == Decision::kFutile);
}

TEST_CASE("a deadline caps the width by the measured time of each width",
          "[infer][throttle][live]") {
  ThrottleOptions o;
  o.policy = PolicyKind::kFixed;  // wants the widest
  o.max_latency_ms = 50;
  o.quality.enabled = false;
  Throttle t(o, kWidths, kMflops);
  // Nothing measured yet: no cap.
  CHECK(t.begin({}).index == 2);
  // The widest takes 80 ms: too slow; the 0.5 width is expected at half of
  // that (by MFLOPs) and fits.
  t.observe_pass(2, 80);
  Plan p = t.begin({});
  CHECK(p.index == 1);
  CHECK(p.decision == Decision::kDeadline);
  // Measured at 30 ms, it still fits; a window that already waited 25 ms
  // does not, and runs narrowest.
  t.observe_pass(1, 30);
  CHECK(t.begin({}).index == 1);
  WindowSignals late;
  late.waited_ms = 25;
  p = t.begin(late);
  CHECK(p.index == 0);
  CHECK(p.decision == Decision::kDeadline);
  // The narrowest is the floor even when it is late too.
  late.waited_ms = 500;
  CHECK(t.begin(late).index == 0);
  // Faster passes lift the cap again (a moving average).
  for (int i = 0; i < 20; ++i) t.observe_pass(2, 20);
  CHECK(t.begin({}).index == 2);
  CHECK(t.begin({}).decision == Decision::kFixed);
}

namespace {

ThrottleOptions futility_options(bool rerun) {
  ThrottleOptions o = confidence_options();
  o.rerun = rerun;
  o.futility_gain = 0.05;
  o.futility_change = 0.15;
  o.futility_hold = 4;
  return o;
}

}  // namespace

TEST_CASE("futility: a climb to the widest that gains nothing is given up until the input changes",
          "[infer][throttle][futility]") {
  Throttle t(futility_options(/*rerun=*/false), kWidths, kMflops);
  // Unsure: the windows climb one width each ...
  CHECK(run_window(t, {0.40}).front().index == 0);
  CHECK(run_window(t, {0.41}).front().index == 1);
  auto p = run_window(t, {0.43}).front();
  CHECK(p.index == 2);
  CHECK(p.decision == Decision::kEscalate);
  // ... and at the widest are no surer than where they began: back, held.
  for (int i = 0; i < 3; ++i) {
    p = run_window(t, {0.45}).front();
    CHECK(p.index == 0);
    CHECK(p.decision == Decision::kFutile);
  }
  // A confidence that moves by the change margin is another input: the
  // climb resumes.
  CHECK(run_window(t, {0.20}).front().index == 0);
  p = run_window(t, {0.20}).front();
  CHECK(p.index == 1);
  CHECK(p.decision == Decision::kEscalate);
}

TEST_CASE("futility: a climb that gains at the widest is kept, however the middle did",
          "[infer][throttle][futility]") {
  Throttle t(futility_options(/*rerun=*/false), kWidths, kMflops);
  run_window(t, {0.40});
  run_window(t, {0.38});  // the middle width: no surer, the climb goes on
  run_window(t, {0.50});  // the widest: +0.10 over the start
  const Plan p = run_window(t, {0.50}).front();
  CHECK(p.index == 2);  // stays widest, unsure: nothing wider to try
  CHECK(p.decision != Decision::kFutile);
  // A climb that ends sure is no futility either.
  Throttle u(futility_options(false), kWidths, kMflops);
  run_window(u, {0.40});
  run_window(u, {0.40});
  run_window(u, {0.90});
  CHECK(run_window(u, {0.90}).front().decision == Decision::kConfident);
}

TEST_CASE("futility: the hold runs out after its windows, then one more climb",
          "[infer][throttle][futility]") {
  Throttle h(futility_options(false), kWidths, kMflops);
  for (int i = 0; i < 3; ++i) run_window(h, {0.40});  // 0, 1, 2: futile
  std::vector<int> widths;
  for (int i = 0; i < 8; ++i) widths.push_back(run_window(h, {0.40}).front().index);
  // 4 held windows, a climb through 1 and 2, futile again: held again.
  CHECK(widths == std::vector<int>{0, 0, 0, 0, 1, 2, 0, 0});
}

TEST_CASE("futility in re-run mode: a window that climbs to the widest for nothing",
          "[infer][throttle][futility]") {
  Throttle t(futility_options(/*rerun=*/true), kWidths, kMflops);
  auto plans = run_window(t, {0.30, 0.31, 0.32});
  REQUIRE(plans.size() == 3);  // climbed 0, 1, 2 within the window: no surer
  plans = run_window(t, {0.30});
  CHECK(plans.size() == 1);  // held: no re-run
  CHECK(plans[0].index == 0);
  CHECK(plans[0].decision == Decision::kFutile);
  // One that ends surer is kept.
  Throttle u(futility_options(true), kWidths, kMflops);
  CHECK(run_window(u, {0.30, 0.31, 0.45}).size() == 3);
  CHECK(run_window(u, {0.45}).front().index == 2);
}

TEST_CASE("gate: a narrower choice naming another gesture is held at the wider width",
          "[infer][throttle][gate]") {
  ThrottleOptions o;
  o.policy = PolicyKind::kGate;
  o.threshold = 0.6;
  o.disagree_hold = 3;
  o.quality.enabled = false;
  Throttle t(o, kWidths, kMflops);
  WindowSignals wide, narrow;
  wide.gate_choice = 2;
  narrow.gate_choice = 0;
  CHECK(t.begin(wide).index == 2);
  t.finish({2, 0.9, 4, false}, kMflops[2]);  // the widest, sure of gesture 4
  Plan p = t.begin(narrow);
  CHECK(p.index == 0);
  CHECK(p.decision == Decision::kGate);
  t.finish({0, 0.9, 5, false}, kMflops[0]);  // the narrowest, sure of gesture 5: not trusted
  for (int i = 0; i < 3; ++i) {              // held at the widest while it keeps saying 4
    p = t.begin(narrow);
    CHECK(p.index == 2);
    CHECK(p.decision == Decision::kDisagree);
    t.finish({2, 0.9, 4, false}, kMflops[2]);
  }
  CHECK(t.begin(narrow).decision == Decision::kGate);  // the hold ran out: the gate decides again
  t.finish({0, 0.9, 4, false}, kMflops[0]);            // the same answer narrower: trusted
  CHECK(t.begin(narrow).decision == Decision::kGate);
  t.finish({0, 0.9, 4, false}, kMflops[0]);

  // The wider width changing its answer ends the hold; a gate choice at least
  // as wide is never lowered; an idle label or the rule off never holds.
  t.finish({2, 0.9, 6, false}, kMflops[2]);
  t.finish({0, 0.9, 7, false}, kMflops[0]);  // disagrees with 6
  CHECK(t.begin(narrow).index == 2);
  t.finish({2, 0.9, 8, false}, kMflops[2]);  // the wider width now says 8
  CHECK(t.begin(narrow).decision == Decision::kGate);
  t.finish({2, 0.9, 6, false}, kMflops[2]);
  t.finish({0, 0.9, 0, true}, kMflops[0]);  // sure of the idle label: no disagreement
  CHECK(t.begin(narrow).decision == Decision::kIdle);
  o.disagree_hold = 0;
  Throttle off(o, kWidths, kMflops);
  off.finish({2, 0.9, 4, false}, kMflops[2]);
  off.finish({0, 0.9, 5, false}, kMflops[0]);
  CHECK(off.begin(narrow).decision == Decision::kGate);
}

#include "models/artifact_format.h"

#include <cmath>

namespace adaptive {
namespace {

using json = nlohmann::json;

// The value at a JSON pointer, with the file and the path in errors.
template <class T>
T field(const json& j, const std::string& pointer, const std::string& origin) {
  const json::json_pointer p(pointer);
  if (!j.contains(p)) throw ModelError(origin + ": adaptive.json has no '" + pointer + "'");
  try {
    return j.at(p).get<T>();
  } catch (const json::exception&) {
    throw ModelError(origin + ": adaptive.json '" + pointer + "' has the wrong type (got " +
                     j.at(p).dump().substr(0, 60) + ")");
  }
}

}  // namespace

std::optional<int> find_width_index(const std::vector<double>& widths, double width) {
  for (size_t i = 0; i < widths.size(); ++i)
    if (std::abs(widths[i] - width) < 1e-6) return static_cast<int>(i);
  return std::nullopt;
}

std::vector<double> ArtifactMetadata::width_values() const {
  std::vector<double> out;
  for (const ArtifactWidth& w : widths) out.push_back(w.width);
  return out;
}

std::optional<int> ArtifactMetadata::width_index(double width) const {
  return find_width_index(width_values(), width);
}

std::vector<std::string> required_methods(bool has_gate, bool streams) {
  std::vector<std::string> methods = {"forward", "forward_at", "set_width", "get_width", "widths"};
  if (has_gate) methods.insert(methods.end(), {"gate", "forward_gated"});
  if (streams) methods.insert(methods.end(), {"init_state", "step", "prefill"});
  if (streams && has_gate) methods.insert(methods.end(), {"step_and_gate", "prefill_and_gate"});
  return methods;
}

json to_json(const ArtifactMetadata& m) {
  const ArtifactInput& in = m.input;
  json widths = json::array(), cost = json::array(), temperature = json::array(),
       top1 = json::array();
  for (const ArtifactWidth& w : m.widths) {
    widths.push_back(w.width);
    cost.push_back({{"width", w.width}, {"mflops", w.mflops}, {"params", w.params}});
    temperature.push_back(w.temperature);
    if (w.val_top1) top1.push_back(*w.val_top1);
  }
  json stream = nullptr;
  if (m.streams) {
    json step = json::array();
    for (const ArtifactWidth& w : m.widths) step.push_back(w.step_mflops);
    stream = {
        {"step_mflops", step},
        {"reach_frames", m.stream_reach_frames},
        {"pooled_frames", m.stream_pooled_frames},
        {"exact", m.stream_exact},
        {"init_state", "init_state(width_index): the empty state of a width"},
        {"step",
         "step(frame [N, C, H, W], state) -> (logits, state): the logits of the window "
         "of input.frames frames ending on this frame, and the state for the next"},
        {"prefill",
         "prefill(clip [N, C, T, H, W], width_index) -> (logits, state): forward_at's "
         "logits and the state T steps from init_state would leave, in one pass"},
        {"step_and_gate", m.has_gate ? json("step + the gate head reading it") : json()},
        {"prefill_and_gate", m.has_gate ? json("prefill + the gate head reading it") : json()}};
  }
  json gate = nullptr;
  if (m.has_gate) {
    gate = {{"mflops", m.gate_mflops},
            {"reads",
             "features and class probabilities of a pass: head 0 the narrowest width's "
             "(gate, forward_gated), head w width w's (forward_and_gate)"},
            {"forward_gated", "narrowest width + gate head + the chosen width when wider"},
            {"forward_and_gate",
             "one pass at the given width + its gate head: the scores "
             "choose the next window's width on a stream"}};
  }
  return {{"format", kArtifactFormat},
          {"format_version", kArtifactFormatVersion},
          {"labels", m.labels},
          {"input",
           {{"frames", in.frames},
            {"height", in.height},
            {"width", in.width},
            {"channels", in.channels},
            {"layout", "NCTHW"},
            {"color", "RGB"},
            {"mean", in.mean},
            {"std", in.std},
            {"fps", in.fps},
            {"resize", {{"short_side", in.short_side}, {"crop", "center"}}}}},
          {"widths", widths},
          {"default_width", m.widths.at(m.default_width_index).width},
          {"cost", cost},
          {"temperature", temperature},
          {"calibrated", m.calibrated},
          {"metrics", top1.empty() ? json::object() : json{{"val_top1", top1}}},
          {"gate", gate},
          {"stream", stream},
          {"producer", m.producer},
          {"source", m.source},
          {"config", m.config}};
}

json to_onnx_json(const ArtifactMetadata& m) {
  json j = to_json(m);
  const std::string clip = "float [N, " + std::to_string(m.input.channels) + ", " +
                           std::to_string(m.input.frames) + ", " + std::to_string(m.input.height) +
                           ", " + std::to_string(m.input.width) + "], normalised as input says";
  json inputs = {{kOnnxClipInput, clip}};
  if (m.widths.size() > 1) {
    inputs[kOnnxWidthInput] =
        "int64 scalar: the index into widths of the width to run; only that width's "
        "subgraph runs";
  }
  json outputs = {{kOnnxLogitsOutput, "float [N, classes]: the logits at that width"}};
  if (m.has_gate) {
    outputs[kOnnxGateOutput] =
        "float [N, widths]: the scores of the gate head reading that width's pass; the "
        "narrowest width's choose the width a clip seen alone needs (argmax)";
    j["gate"] = {{"mflops", m.gate_mflops},
                 {"reads", "features and class probabilities of the pass at width_index"},
                 {"output", kOnnxGateOutput}};
  }
  j["format"] = kOnnxArtifactFormat;
  j["stream"] = nullptr;
  j["onnx"] = {{"opset", kOnnxOpset}, {"inputs", inputs}, {"outputs", outputs}};
  return j;
}

ArtifactMetadata parse_artifact_metadata(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ModelError(origin + ": adaptive.json is not valid JSON: " + e.what());
  }
  ArtifactMetadata m;
  const auto format = field<std::string>(j, "/format", origin);
  if (format != kArtifactFormat) {
    throw ModelError(origin + ": adaptive.json format is '" + format + "', expected '" +
                     kArtifactFormat + "'");
  }
  m.format_version = field<int>(j, "/format_version", origin);
  if (m.format_version > kArtifactFormatVersion || m.format_version < 1) {
    throw ModelError(origin + ": adaptive.json format_version " + std::to_string(m.format_version) +
                     " is not supported (this reader knows 1.." +
                     std::to_string(kArtifactFormatVersion) + "; a newer toolkit wrote it?)");
  }
  m.labels = field<std::vector<std::string>>(j, "/labels", origin);
  auto& in = m.input;
  in.frames = field<int64_t>(j, "/input/frames", origin);
  in.height = field<int64_t>(j, "/input/height", origin);
  in.width = field<int64_t>(j, "/input/width", origin);
  in.channels = field<int64_t>(j, "/input/channels", origin);
  in.mean = field<std::vector<double>>(j, "/input/mean", origin);
  in.std = field<std::vector<double>>(j, "/input/std", origin);
  in.fps = field<double>(j, "/input/fps", origin);
  in.short_side = j.contains(json::json_pointer("/input/resize/short_side"))
                      ? field<int64_t>(j, "/input/resize/short_side", origin)
                      : std::max(in.height, in.width);
  if (in.frames < 1 || in.height < 1 || in.width < 1 || in.channels != 3 || in.mean.size() != 3 ||
      in.std.size() != 3) {
    throw ModelError(origin +
                     ": adaptive.json 'input' is not a 3-channel clip spec with 3 means "
                     "and 3 stds");
  }
  const auto widths = field<std::vector<double>>(j, "/widths", origin);
  const auto temperature = field<std::vector<double>>(j, "/temperature", origin);
  const json cost = field<json>(j, "/cost", origin);
  if (widths.empty() || temperature.size() != widths.size() || cost.size() != widths.size()) {
    throw ModelError(origin + ": adaptive.json lists " + std::to_string(widths.size()) +
                     " widths, " + std::to_string(temperature.size()) + " temperatures and " +
                     std::to_string(cost.size()) + " costs; expected one of each per width");
  }
  std::vector<double> top1;
  if (j.contains(json::json_pointer("/metrics/val_top1")))
    top1 = field<std::vector<double>>(j, "/metrics/val_top1", origin);
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string at = "/cost/" + std::to_string(i);
    ArtifactWidth w{widths[i], field<double>(j, at + "/mflops", origin),
                    field<int64_t>(j, at + "/params", origin), temperature[i], std::nullopt};
    if (top1.size() == widths.size()) w.val_top1 = top1[i];
    m.widths.push_back(w);
  }
  // The default width: one of the listed ones (the first matching), else the first.
  m.default_width_index =
      find_width_index(widths, field<double>(j, "/default_width", origin)).value_or(0);
  if (j.contains("calibrated")) m.calibrated = field<bool>(j, "/calibrated", origin);
  if (j.contains("gate") && !j["gate"].is_null()) {
    m.has_gate = true;
    m.gate_mflops = field<double>(j, "/gate/mflops", origin);
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    m.streams = true;
    const auto step = field<std::vector<double>>(j, "/stream/step_mflops", origin);
    if (step.size() != widths.size()) {
      throw ModelError(origin + ": adaptive.json '/stream/step_mflops' lists " +
                       std::to_string(step.size()) + " widths, expected " +
                       std::to_string(widths.size()));
    }
    for (size_t i = 0; i < step.size(); ++i) m.widths[i].step_mflops = step[i];
    if (j["stream"].contains("reach_frames"))
      m.stream_reach_frames = field<int64_t>(j, "/stream/reach_frames", origin);
    if (j["stream"].contains("pooled_frames"))
      m.stream_pooled_frames = field<int64_t>(j, "/stream/pooled_frames", origin);
    if (j["stream"].contains("exact")) m.stream_exact = field<bool>(j, "/stream/exact", origin);
  }
  m.producer = j.value("producer", json());
  m.source = j.value("source", json());
  m.config = j.value("config", json());
  m.json = std::move(j);
  return m;
}

double config_number(const ArtifactMetadata& meta, const std::string& pointer, double otherwise) {
  const json::json_pointer p(pointer);
  return meta.config.is_object() && meta.config.contains(p) && meta.config.at(p).is_number()
             ? meta.config.at(p).get<double>()
             : otherwise;
}

}  // namespace adaptive

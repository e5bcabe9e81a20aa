#include "train/trained_model.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace adaptive {

TrainedModel load_trained_model(const std::string& path, const std::string& use, bool with_gate) {
  TrainedModel t;
  t.checkpoint = read_checkpoint(path);
  t.config = train_config_from_json(nlohmann::json::parse(t.checkpoint.config_json));
  const auto& labels = t.checkpoint.labels;
  if (labels.empty()) {
    throw std::runtime_error(path +
                             ": the checkpoint holds no class labels (written by an older "
                             "adaptive-train); retrain or resume the run to " +
                             use + " it");
  }
  t.final_model = final_info(t.checkpoint);
  t.model = build_model(model_options(t.config, static_cast<int64_t>(labels.size())));
  if (t.model->options().width_mode == WidthMode::kUniversal && !t.final_model) {
    throw std::runtime_error(path +
                             ": a universal-width checkpoint whose batch-norm statistics "
                             "were not recalibrated per width; " +
                             use + " the run's checkpoints/final.pt");
  }
  if (with_gate && t.final_model && t.final_model->gate_enabled)
    t.gate = WidthGate(gate_options_for(*t.model, t.config.gate.hidden));
  load_checkpoint(path, *t.model, nullptr, t.gate ? t.gate.ptr().get() : nullptr);
  t.model->eval();
  if (t.gate) t.gate->eval();
  return t;
}

}  // namespace adaptive

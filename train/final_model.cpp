#include "train/final_model.h"

#include "train/exporter.h"

namespace adaptive {

std::vector<WidthReport> final_width_reports(SlimmableNet& model, const SplitOutputs& val,
                                             const TrainConfig& config) {
  std::vector<WidthReport> widths = score_widths(val, model.widths());
  const DataConfig& d = config.data;
  for (size_t i = 0; i < widths.size(); ++i) {
    const CostTally cost = model_cost(model, static_cast<int>(i), d.clip.frames,
                                      d.transform.crop_height, d.transform.crop_width);
    widths[i].mflops = cost.flops / 1e6;
    widths[i].params = cost.params;
  }
  calibrate_confidence(val, config.calibration.enabled, config.calibration.bins, widths);
  return widths;
}

FinalModelInfo final_model_info(const std::vector<WidthReport>& widths, const GateReport& gate,
                                bool gate_enabled) {
  FinalModelInfo info;
  for (const auto& w : widths) {
    info.temperature.push_back(w.temperature);
    info.mflops.push_back(w.mflops);
    info.params.push_back(static_cast<double>(w.params));
    info.val_top1.push_back(w.top1);
  }
  info.gate_enabled = gate_enabled;
  info.gate_mflops = gate.gate_mflops;
  return info;
}

std::string write_final_model(const RunDirectory& run_dir, SlimmableNet& model,
                              Checkpoint checkpoint, const FinalModelInfo& info,
                              WidthGateImpl* gate, bool onnx) {
  set_final_info(checkpoint, info);
  const std::string final_path = run_dir.checkpoint("final.pt").string();
  const std::string model_path = (run_dir.path() / "model.pt").string();
  save_checkpoint(final_path, model, nullptr, checkpoint, gate);
  export_checkpoint({final_path, model_path, {}, ExportFormat::kTorchScript});
  if (!onnx) return model_path;
  // model.pt is the run's artifact: a network ONNX cannot hold says why and
  // leaves it in place.
  const std::string onnx_path = (run_dir.path() / "model.onnx").string();
  try {
    export_checkpoint({final_path, onnx_path, {}, ExportFormat::kOnnx});
  } catch (const std::exception& e) {
    return model_path + " (no model.onnx: " + e.what() + ")";
  }
  return model_path + " and " + onnx_path;
}

}  // namespace adaptive

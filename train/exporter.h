// Export: a checkpoint of adaptive-train to the deployable artifact, one
// file with every width, a runtime width knob and its metadata adaptive.json
// (docs/artifact.md; the format is models/artifact_format.h). Two forms of
// the same network: TorchScript (models/script_export.h; adaptive.json an
// extra file) and ONNX (models/onnx_export.h; adaptive.json in the model's
// metadata_props).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/enum_names.h"

namespace adaptive {

enum class ExportFormat { kTorchScript, kOnnx };
const NameTable<ExportFormat>& export_format_names();  // "torchscript" | "onnx"
// The format a file name asks for: ".onnx" is ONNX, anything else TorchScript.
ExportFormat export_format_for(const std::string& path);

struct ExportOptions {
  std::string checkpoint;  // a checkpoint of adaptive-train (checkpoints/final.pt is calibrated)
  std::string out;         // the file to write (atomically)
  std::vector<double> widths;  // widths to export, a subset of the model's; empty: all
  ExportFormat format = ExportFormat::kTorchScript;
};

struct ExportSummary {
  nlohmann::json metadata;  // what adaptive.json holds
  int64_t bytes = 0;        // file size
};

// Throws std::runtime_error naming the file (unreadable checkpoint, no
// labels, a universal-width checkpoint whose BN was not recalibrated, I/O) or
// std::invalid_argument (a width the model does not have, a checkpoint the
// format cannot hold, saying why).
ExportSummary export_checkpoint(const ExportOptions& options);

}  // namespace adaptive

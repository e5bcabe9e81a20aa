// Export: a checkpoint of adaptive-train to the deployable artifact, one
// TorchScript file with every width, a runtime width knob and its metadata
// in the extra file adaptive.json (docs/artifact.md; the format is
// models/artifact_format.h, the module is built by models/script_export.h).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace adaptive {

struct ExportOptions {
  std::string checkpoint;  // a checkpoint of adaptive-train (checkpoints/final.pt is calibrated)
  std::string out;         // the .pt file to write (atomically)
  std::vector<double> widths;  // widths to export, a subset of the model's; empty: all
};

struct ExportSummary {
  nlohmann::json metadata;  // what adaptive.json holds
  int64_t bytes = 0;        // file size
};

// Throws std::runtime_error naming the file (unreadable checkpoint, no
// labels, a universal-width checkpoint whose BN was not recalibrated, I/O) or
// std::invalid_argument (a width the model does not have).
ExportSummary export_checkpoint(const ExportOptions& options);

}  // namespace adaptive

#include "train/train_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace adaptive {

using json = nlohmann::json;

json widths_json(const std::vector<WidthReport>& reports, const std::string& split) {
  const std::string prefix = split.empty() ? "" : split + "_";
  json widths = json::array();
  for (const auto& w : reports) {
    widths.push_back({{"width", w.width},
                      {prefix + "top1", w.top1},
                      {prefix + "loss", w.loss},
                      {"mflops", w.mflops},
                      {"params", w.params},
                      {"temperature", w.temperature},
                      {"ece_before", w.ece_before},
                      {"ece_after", w.ece_after},
                      {prefix + "top5", w.top5},
                      {prefix + "mean_class_accuracy", w.mean_class_accuracy},
                      {prefix + "class_accuracy", w.class_accuracy},
                      {prefix + "confusion", w.confusion}});
  }
  return widths;
}

json report_json(const TrainReport& report) {
  const json widths = widths_json(report.widths, "val");
  json gate = nullptr;
  if (report.gate.trained) {
    json heads = json::array();
    for (const auto& h : report.gate.heads) {
      heads.push_back({{"width", h.width},
                       {"val_top1", h.top1},
                       {"compute", h.compute},
                       {"target_accuracy", h.target_accuracy},
                       {"cost_bias", h.cost_bias},
                       {"share_per_width", h.share}});
    }
    // The top-level figures are the probe's (head 0): a clip seen alone.
    const GateHeadReport& probe = report.gate.heads.front();
    const double full = report.widths.empty() ? 0 : report.widths.back().mflops;
    gate = {{"val_top1", probe.top1},
            {"mean_mflops", probe.compute * full},
            {"gate_mflops", report.gate.gate_mflops},
            {"target_accuracy", probe.target_accuracy},
            {"target_compute", report.gate.target_compute},
            {"cost_bias", probe.cost_bias},
            {"held_out_clips", report.gate.held_out_clips},
            {"share_per_width", probe.share},
            {"heads", heads}};
  }
  const DataReport& d = report.data;
  json init = nullptr;
  if (report.init_from) {
    init = {{"checkpoint", report.init_from->checkpoint},
            {"classifier_reset", report.init_from->classifier_reset},
            {"channels_sorted", report.init_from->channels_sorted}};
  }
  return {{"init_from", init},
          {"data",
           {{"layout", d.layout},
            {"classes", d.classes},
            {"train_clips", d.train_clips},
            {"gate_clips", d.gate_clips},
            {"val_clips", d.val_clips}}},
          {"widths", widths},
          {"gate", gate},
          {"epochs", report.epochs_run},
          {"steps", report.steps},
          {"best_epoch", report.best_epoch},
          {"train_clips_per_s", report.clips_per_s},
          {"data_share", report.data_share},
          {"compute_busy", report.compute_busy},
          {"skipped_samples", report.skipped_samples},
          {"seconds", report.seconds},
          {"times",
           {{"setup_s", report.times.setup_s},
            {"preload_s", report.times.preload_s},
            {"steps_s", report.times.steps_s},
            {"epoch_ends_s", report.times.epoch_ends_s},
            {"final_s", report.times.final_s}}}};
}

std::string format_widths(const std::vector<WidthReport>& widths) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-7s %8s %8s %10s %9s %10s %9s %8s %8s\n", "width", "top-1",
                "top-5", "mean class", "MFLOPs", "params", "temp", "ECE", "ECE cal");
  out << line;
  for (const auto& w : widths) {
    std::snprintf(line, sizeof line,
                  "%-7.3g %7.1f%% %7.1f%% %9.1f%% %9.1f %10lld %9.2f %8.3f %8.3f\n", w.width,
                  100 * w.top1, 100 * w.top5, 100 * w.mean_class_accuracy, w.mflops,
                  static_cast<long long>(w.params), w.temperature, w.ece_before, w.ece_after);
    out << line;
  }
  return out.str();
}

std::string format_weakest_classes(const WidthReport& w, const std::vector<std::string>& classes,
                                   size_t count) {
  std::vector<size_t> order;
  for (size_t c = 0; c < w.class_accuracy.size() && c < classes.size(); ++c)
    if (!std::isnan(w.class_accuracy[c])) order.push_back(c);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return w.class_accuracy[a] < w.class_accuracy[b]; });
  if (order.size() > count) order.resize(count);
  std::ostringstream out;
  char text[64];
  std::snprintf(text, sizeof text, "weakest classes at %.3gx:", w.width);
  out << text;
  for (size_t k = 0; k < order.size(); ++k) {
    const auto& row = w.confusion[order[k]];
    int64_t n = 0;
    size_t confused = order[k];
    for (size_t p = 0; p < row.size(); ++p) {
      n += row[p];
      if (p != order[k] && (confused == order[k] || row[p] > row[confused])) confused = p;
    }
    std::snprintf(text, sizeof text, " %.0f%% (%lld/%lld", 100 * w.class_accuracy[order[k]],
                  static_cast<long long>(row[order[k]]), static_cast<long long>(n));
    out << (k ? "," : "") << " " << classes[order[k]] << text;
    if (confused != order[k] && row[confused] > 0)
      out << "; taken for " << classes[confused] << " " << row[confused];
    out << ")";
  }
  out << "\n";
  return out.str();
}

std::string format_report(const TrainReport& r) {
  std::ostringstream out;
  char line[256];
  out << format_widths(r.widths);
  if (r.gate.trained && !r.widths.empty()) {
    const GateHeadReport& probe = r.gate.heads.front();
    std::snprintf(line, sizeof line,
                  "gate    %7.1f%% %9.1f  (%.0f%% of full-width compute, target %.0f%% fitted "
                  "on val; gate head %.3f MFLOPs)\n",
                  100 * probe.top1, probe.compute * r.widths.back().mflops, 100 * probe.compute,
                  100 * r.gate.target_compute, r.gate.gate_mflops);
    out << line << "        widths chosen:";
    for (size_t i = 0; i < probe.share.size(); ++i) {
      std::snprintf(line, sizeof line, " %.3gx %.0f%%", r.widths[i].width, 100 * probe.share[i]);
      out << line;
    }
    if (r.gate.held_out_clips > 0)
      out << "; targets from " << r.gate.held_out_clips << " held-out training clips";
    else
      out << "; targets from the training clips";
    out << "\n        on a stream, from the previous window's pass at";
    for (const auto& h : r.gate.heads) {
      std::snprintf(line, sizeof line, " %.3gx: %.1f%% at %.0f%%", h.width, 100 * h.top1,
                    100 * h.compute);
      out << line;
    }
    out << "\n";
  }
  if (r.clips_per_s > 0) {  // no step ran when a finished run is reported again
    std::snprintf(line, sizeof line,
                  "training: %.1f clips/s, %.1f%% of step time waiting for data, compute thread "
                  "busy %.0f%% of model step time",
                  r.clips_per_s, 100 * r.data_share, 100 * r.compute_busy);
    out << line;
  }
  const RunTimes& t = r.times;
  std::snprintf(line, sizeof line,
                "%s%.0f s in all: setup %.1f s, decoding into the cache %.1f s, steps %.1f s, "
                "validation and checkpoints %.1f s, final model and export %.1f s\n",
                r.clips_per_s > 0 ? ", " : "", r.seconds, t.setup_s, t.preload_s, t.steps_s,
                t.epoch_ends_s, t.final_s);
  out << line;
  if (r.skipped_samples > 0) {
    out << "skipped " << r.skipped_samples
        << " bad video(s), named in the warnings above (data.on_bad_sample: skip)\n";
  }
  return out.str();
}

}  // namespace adaptive

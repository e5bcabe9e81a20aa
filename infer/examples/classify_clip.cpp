// classify_clip: how another service uses a model exported by this toolkit,
// with LibTorch alone (and a JSON parser for the metadata), no code of ours.
//
//   classify_clip MODEL.pt CLIP.pt
//
// CLIP.pt holds a float tensor [3, T, H, W] or [N, 3, T, H, W] preprocessed
// as adaptive.json's "input" says (RGB in [0, 1], then (x - mean) / std),
// saved with torch.save in Python or torch::pickle_save in C++. Prints the
// label and calibrated confidence of the first clip at every width, and the
// gate's choice when the model has one. A causal model (adaptive.json's
// "stream" not null) is also streamed frame by frame at its narrowest and
// widest widths: after the clip's last frame, the stream's answer is the
// window's.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <torch/script.h>
#include <torch/serialize.h>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: classify_clip MODEL.pt CLIP.pt\n";
    return 2;
  }
  try {
    // The model and its metadata (the extra file adaptive.json).
    torch::jit::ExtraFilesMap extra{{"adaptive.json", ""}};
    torch::jit::Module model = torch::jit::load(argv[1], torch::kCPU, extra);
    const auto meta = nlohmann::json::parse(extra.at("adaptive.json"));
    const auto labels = meta.at("labels").get<std::vector<std::string>>();
    const auto temperature = meta.at("temperature").get<std::vector<double>>();
    const auto& input = meta.at("input");
    std::printf("model: %zu classes, input [N, 3, %d, %d, %d] at %.2f fps\n", labels.size(),
                input.at("frames").get<int>(), input.at("height").get<int>(),
                input.at("width").get<int>(), input.at("fps").get<double>());

    std::ifstream file(argv[2], std::ios::binary);
    if (!file) throw std::runtime_error(std::string("cannot read ") + argv[2]);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), {});
    at::Tensor clip = torch::pickle_load(bytes).toTensor();
    if (clip.dim() == 4) clip = clip.unsqueeze(0);

    torch::NoGradGuard no_grad;
    auto report = [&](const char* what, double width, int index, const at::Tensor& logits) {
      const at::Tensor p = torch::softmax(logits[0] / temperature.at(index), 0);
      const int64_t label = p.argmax().item<int64_t>();
      std::printf("%s %.4g: %s %.4f (%.1f MFLOPs)\n", what, width, labels.at(label).c_str(),
                  p[label].item<double>(), meta["cost"][index]["mflops"].get<double>());
    };
    // The width knob: set a width, then forward() runs at it.
    const auto widths = model.run_method("widths").toDoubleList().vec();
    for (size_t i = 0; i < widths.size(); ++i) {
      model.run_method("set_width", widths[i]);
      report("width", widths[i], static_cast<int>(i), model.forward({clip}).toTensor());
    }
    if (!meta.at("gate").is_null()) {  // the gate picks the width per clip
      const auto out = model.run_method("forward_gated", clip).toTuple();
      const int index = static_cast<int>(out->elements()[1].toTensor()[0].item<int64_t>());
      report("gate chose width", widths[index], index, out->elements()[0].toTensor());
    }
    if (!meta.at("stream").is_null()) {  // a frame at a time, each width its own state
      for (size_t i : {size_t{0}, widths.size() - 1}) {
        c10::IValue state = model.run_method("init_state", static_cast<int64_t>(i));
        at::Tensor logits;
        for (int64_t t = 0; t < clip.size(2); ++t) {
          const auto out = model.run_method("step", clip.select(2, t), state).toTuple();
          logits = out->elements()[0].toTensor();
          state = out->elements()[1];
        }
        const at::Tensor p = torch::softmax(logits[0] / temperature.at(i), 0);
        const int64_t label = p.argmax().item<int64_t>();
        std::printf("stream %.4g: %s %.4f (%.1f MFLOPs a frame)\n", widths[i],
                    labels.at(label).c_str(), p[label].item<double>(),
                    meta["stream"]["step_mflops"][i].get<double>());
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "classify_clip: " << e.what() << "\n";
    return 1;
  }
}

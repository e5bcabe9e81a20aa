// classify_clip_onnx: how a service without LibTorch uses a model exported by
// this toolkit as ONNX, with OpenCV's DNN module alone (and a JSON parser for
// the metadata), no code of ours.
//
//   classify_clip_onnx CLIP.f32 WIDTH.onnx [WIDTH.onnx ...]
//
// Each WIDTH.onnx is one width of the model, exported with
// `adaptive-train export --format onnx --widths W`: OpenCV 4.6 cannot run the
// If nodes with which model.onnx holds every width behind its width_index
// input (docs/artifact.md, "ONNX"). CLIP.f32 holds the float32 values of one
// clip [1, 3, T, H, W], preprocessed as adaptive.json's "input" says (RGB in
// [0, 1], then (x - mean) / std). Prints the label and calibrated confidence
// at each width.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(file)), {});
}

// Protocol buffers' wire format, enough to walk a message's fields.
struct Wire {
  const std::string& bytes;
  size_t at = 0, end = 0;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; at < end && shift < 64; shift += 7) {
      const auto b = static_cast<uint8_t>(bytes[at++]);
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("not an ONNX model: a truncated field");
  }
  // The next field: its number, and where its bytes are when length-delimited.
  bool next(uint32_t& field, size_t& begin, size_t& length) {
    if (at >= end) return false;
    const uint64_t tag = varint();
    field = static_cast<uint32_t>(tag >> 3);
    length = 0;
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2:
        length = varint();
        begin = at;
        at += length;
        break;
      default:
        throw std::runtime_error("not an ONNX model: wire type " + std::to_string(tag & 7));
    }
    if (at > end) throw std::runtime_error("not an ONNX model: a field runs past the end");
    return true;
  }
};

// The value of ModelProto.metadata_props (field 14) under `key`.
std::string onnx_metadata(const std::string& model, const std::string& key) {
  Wire w{model, 0, model.size()};
  uint32_t field;
  size_t begin, length;
  while (w.next(field, begin, length)) {
    if (field != 14) continue;
    Wire entry{model, begin, begin + length};
    std::string k, v;
    size_t b, l;
    while (entry.next(field, b, l)) (field == 1 ? k : v) = model.substr(b, l);
    if (k == key) return v;
  }
  throw std::runtime_error("no " + key + " in its metadata_props: not exported by adaptive-train");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: classify_clip_onnx CLIP.f32 WIDTH.onnx [WIDTH.onnx ...]\n";
    return 2;
  }
  try {
    const std::string clip_bytes = read_file(argv[1]);
    for (int i = 2; i < argc; ++i) {
      const std::string path = argv[i];
      const std::string model = read_file(path);
      nlohmann::json meta;
      try {
        meta = nlohmann::json::parse(onnx_metadata(model, "adaptive.json"));
      } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
      }
      const auto& input = meta.at("input");
      const std::vector<int> shape = {1, input.at("channels").get<int>(),
                                      input.at("frames").get<int>(), input.at("height").get<int>(),
                                      input.at("width").get<int>()};
      if (meta.at("widths").size() != 1) {
        throw std::runtime_error(path + ": holds " + std::to_string(meta["widths"].size()) +
                                 " widths behind If nodes, which OpenCV's DNN module cannot run; "
                                 "export one file per width (--widths W)");
      }
      size_t numel = 1;
      for (int d : shape) numel *= static_cast<size_t>(d);
      if (clip_bytes.size() != numel * sizeof(float)) {
        throw std::runtime_error(std::string(argv[1]) + ": " + std::to_string(clip_bytes.size()) +
                                 " bytes, expected " + std::to_string(numel * sizeof(float)) +
                                 " (float32 [1, 3, T, H, W] as " + path + " says)");
      }
      std::vector<float> values(numel);
      std::copy(clip_bytes.begin(), clip_bytes.end(), reinterpret_cast<char*>(values.data()));
      const cv::Mat clip(static_cast<int>(shape.size()), shape.data(), CV_32F, values.data());

      cv::dnn::Net net = cv::dnn::readNetFromONNX(model.data(), model.size());
      net.setInput(clip);
      const cv::Mat logits = net.forward("logits");

      // Calibrated confidence: softmax(logits / temperature).
      const auto labels = meta.at("labels").get<std::vector<std::string>>();
      const double temperature = meta.at("temperature").at(0).get<double>();
      int best = 0;
      double sum = 0;
      for (int c = 0; c < logits.cols; ++c) {
        if (logits.at<float>(0, c) > logits.at<float>(0, best)) best = c;
      }
      for (int c = 0; c < logits.cols; ++c) {
        sum += std::exp((logits.at<float>(0, c) - logits.at<float>(0, best)) / temperature);
      }
      std::printf("width %.4g: %s %.4f (%.1f MFLOPs)\n", meta["widths"][0].get<double>(),
                  labels.at(best).c_str(), 1.0 / sum, meta["cost"][0]["mflops"].get<double>());
    }
  } catch (const std::exception& e) {
    std::cerr << "classify_clip_onnx: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

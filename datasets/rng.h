// Small, portable random numbers for data pipelines.
//
// Every random choice in datasets/ comes from an Rng seeded by mixing a run
// seed with the coordinates of the thing being randomised (epoch, position,
// clip...). Results therefore depend only on those coordinates, never on which
// thread did the work or in which order, and are the same on every platform
// (std:: distributions are implementation-defined; these are not).
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace adaptive {

// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Hashes a seed together with any number of integer coordinates.
inline uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> coords) {
  uint64_t h = mix64(seed);
  for (uint64_t c : coords) h = mix64(h ^ mix64(c + 0x632BE59BD9B4E019ULL));
  return h;
}

// xoshiro256** generator with helpers for the distributions the toolkit uses.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : state_) s = seed = mix64(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (inclusive); lo <= hi.
  int64_t uniform_int(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(span == 0 ? next() : next() % span);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Standard normal via Box-Muller.
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

// 0..n-1 in an order drawn from `rng` (Fisher-Yates).
inline std::vector<int64_t> shuffled_indices(int64_t n, Rng& rng) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.uniform_int(0, i)]);
  return order;
}

}  // namespace adaptive

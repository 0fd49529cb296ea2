// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011). A draw is a pure function
// of (seed, step, series key, sample index, draw index): no state is carried between elements,
// so results never depend on thread count, chunking or device.
#pragma once
#include "skucast/core/hostdevice.h"

namespace skucast {

SKUCAST_HD uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The Philox key for one (seed, step) pair: different steps of one seed are unrelated streams.
SKUCAST_HD uint64_t stream_key(uint64_t seed, int64_t step) {
  return splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(step));
}

struct Philox4x32 {
  uint32_t v[4];
};

SKUCAST_HD void mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

SKUCAST_HD Philox4x32 philox4x32_10(Philox4x32 ctr, uint64_t key) {
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(0xD2511F53u, ctr.v[0], &hi0, &lo0);
    mulhilo32(0xCD9E8D57u, ctr.v[2], &hi1, &lo1);
    ctr = Philox4x32{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return ctr;
}

// Uniform doubles in the open interval (0, 1), 53 bits each, two per Philox block.
// Counter words: {draw block, sample index, series key low, series key high}.
class UniformStream {
 public:
  SKUCAST_HD UniformStream(uint64_t key, uint64_t series_key, uint32_t sample)
      : key_(key), series_key_(series_key), sample_(sample) {}

  SKUCAST_HD double next() {
    if (have_ == 0) refill();
    return buf_[--have_];
  }

 private:
  SKUCAST_HD static double to_open_unit(uint32_t hi, uint32_t lo) {
    const uint64_t bits = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
    return (static_cast<double>(bits) + 0.5) * 0x1.0p-53;
  }
  SKUCAST_HD void refill() {
    const Philox4x32 ctr{{block_++, sample_, static_cast<uint32_t>(series_key_),
                          static_cast<uint32_t>(series_key_ >> 32)}};
    const Philox4x32 r = philox4x32_10(ctr, key_);
    buf_[1] = to_open_unit(r.v[0], r.v[1]);  // consumed first
    buf_[0] = to_open_unit(r.v[2], r.v[3]);
    have_ = 2;
  }

  uint64_t key_;
  uint64_t series_key_;
  uint32_t sample_;
  uint32_t block_ = 0;
  int have_ = 0;
  double buf_[2] = {0.0, 0.0};
};

}  // namespace skucast

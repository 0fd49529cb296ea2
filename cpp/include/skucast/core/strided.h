// Walking a broadcast shape: each operand has its own element strides (0 on broadcast dims),
// so broadcasting costs no copies. The innermost dimension runs as a plain strided loop.
#pragma once
#include <cstdint>
#include <limits>

namespace skucast {

constexpr int kMaxDims = 32;
constexpr int kMaxOperands = 4;

struct Strided {
  const void* data = nullptr;
  int64_t strides[kMaxDims] = {};  // in elements, for each dim of the broadcast shape
};

struct BroadcastShape {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t size() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    return n;
  }
};

// Calls body(flat, off0, ..., off{N-1}) for flat in [begin, end) in order, with the element
// offset of each operand.
template <int N, class Body>
void for_each_offset(const BroadcastShape& bs, const Strided* const (&ops)[N], int64_t begin, int64_t end,
                     Body&& body) {
  if (begin >= end) return;
  if (bs.ndim == 0) {
    int64_t off[N > 0 ? N : 1] = {};
    if constexpr (N == 1) body(begin, off[0]);
    if constexpr (N == 2) body(begin, off[0], off[1]);
    if constexpr (N == 3) body(begin, off[0], off[1], off[2]);
    if constexpr (N == 4) body(begin, off[0], off[1], off[2], off[3]);
    return;
  }
  const int last = bs.ndim - 1;
  int64_t idx[kMaxDims];
  int64_t rest = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rest % bs.shape[d];
    rest /= bs.shape[d];
  }
  int64_t off[N];
  for (int k = 0; k < N; ++k) {
    off[k] = 0;
    for (int d = 0; d < bs.ndim; ++d) off[k] += idx[d] * ops[k]->strides[d];
  }
  int64_t inner_stride[N];
  for (int k = 0; k < N; ++k) inner_stride[k] = ops[k]->strides[last];
  int64_t flat = begin;
  while (flat < end) {
    int64_t run = bs.shape[last] - idx[last];
    if (run > end - flat) run = end - flat;
    for (int64_t r = 0; r < run; ++r) {
      if constexpr (N == 1) body(flat + r, off[0] + r * inner_stride[0]);
      if constexpr (N == 2) body(flat + r, off[0] + r * inner_stride[0], off[1] + r * inner_stride[1]);
      if constexpr (N == 3)
        body(flat + r, off[0] + r * inner_stride[0], off[1] + r * inner_stride[1], off[2] + r * inner_stride[2]);
      if constexpr (N == 4)
        body(flat + r, off[0] + r * inner_stride[0], off[1] + r * inner_stride[1], off[2] + r * inner_stride[2],
             off[3] + r * inner_stride[3]);
    }
    flat += run;
    if (flat >= end) break;
    // carry: move to the start of the next innermost row
    for (int k = 0; k < N; ++k) off[k] += (run - 0) * inner_stride[k] - bs.shape[last] * inner_stride[k];
    idx[last] = 0;
    for (int d = last - 1; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < N; ++k) off[k] += ops[k]->strides[d];
      if (idx[d] < bs.shape[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= bs.shape[d] * ops[k]->strides[d];
      idx[d] = 0;
    }
  }
}

// True when the operand walks the broadcast shape in flat order with unit steps (C-contiguous,
// no broadcast dims): flat index == element offset, so kernels may use plain pointers.
inline bool is_dense(const BroadcastShape& bs, const Strided& op) {
  int64_t expect = 1;
  for (int d = bs.ndim - 1; d >= 0; --d) {
    if (bs.shape[d] != 1 && op.strides[d] != expect) return false;
    expect *= bs.shape[d];
  }
  return true;
}

// True when the operand is one value broadcast over the whole shape (every stride 0).
inline bool is_constant(const BroadcastShape& bs, const Strided& op) {
  for (int d = 0; d < bs.ndim; ++d)
    if (bs.shape[d] != 1 && op.strides[d] != 0) return false;
  return true;
}

// The first invalid element met by a kernel: flat index in the broadcast shape and which
// argument failed. Chunks keep their own and the smallest flat index wins, so the report
// does not depend on the thread count.
struct BadValue {
  int64_t flat = std::numeric_limits<int64_t>::max();
  int arg = -1;
  bool found() const { return arg >= 0; }
  void keep_first(const BadValue& other) {
    if (other.found() && other.flat < flat) *this = other;
  }
};

}  // namespace skucast

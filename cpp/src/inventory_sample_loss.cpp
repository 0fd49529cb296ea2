// The empirical loss function E[(D - S)^+] of sample-path window sums at one S per row, from
// the rows sorted with prefix sums (order_up_to(samples=...)'s fill-rate search): a binary
// search per row, with _SortedRows.loss's operations in its order.
#include <algorithm>

#include "skucast/core/threads.h"
#include "skucast/cpu/inventory_kernels.h"

namespace skucast {
namespace cpu {

void sorted_rows_loss(const double* sorted, const double* prefix, const int64_t* S, int64_t n, int64_t k,
                      double* out) {
  parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const double* row = sorted + r * k;
      const double s = static_cast<double>(S[r]);
      const int64_t c = std::upper_bound(row, row + k, s) - row;  // values <= S
      const double* pre = prefix + r * (k + 1);
      const double above = pre[k] - pre[c];
      // S (k - c) in double: exact below 2^53, and one rounding of the exact product above,
      // where an int64 product could wrap
      out[r] = (above - s * static_cast<double>(k - c)) / static_cast<double>(k);
    }
  });
}

}  // namespace cpu
}  // namespace skucast

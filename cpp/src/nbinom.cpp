// CPU loops over the NB header math: elementwise functions, quantile function, nll, sampling.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "skucast/core/nb_rules.h"
#include "skucast/core/threads.h"
#include "skucast/cpu/avx512.h"
#include "skucast/cpu/kernels.h"
#include "skucast/cpu/nb_dense.h"
#include "skucast/dist/negbin.h"
#include "skucast/dist/negbin_ppf.h"
#include "skucast/dist/sampling.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kGrain = 4096;

// Value rules, function choice and the compensated sum live in core/nb_rules.h (shared with CUDA).
using rules::check_triple;
using rules::valid_q;
static_assert(rules::kArgY == kArgY && rules::kArgMu == kArgMu && rules::kArgAlpha == kArgAlpha &&
                  rules::kArgQ == kArgQ && rules::kArgAlphaMu == kArgAlphaMu,
              "argument codes shared with the CUDA kernels");

inline double nb_value(NbFunc func, double y, double mu, double alpha) {
  return rules::nb_value(static_cast<int>(func), y, mu, alpha);
}

}  // namespace

int logpmf_lanes() {
#if defined(SKUCAST_HAVE_SIMD)
  return use_avx512() ? 8 : 4;
#else
  return 1;
#endif
}

BadValue nb_elementwise(NbFunc func, const BroadcastShape& shape, const Strided& y, DType y_dtype,
                        const Strided& mu, const Strided& alpha, DType param_dtype, void* out) {
  return visit_dtype(y_dtype, [&](auto y_tag) {
    return visit_param_dtype(param_dtype, [&](auto p_tag) {
      using Y = decltype(y_tag);
      using P = decltype(p_tag);
      const Y* yp = static_cast<const Y*>(y.data);
      const P* mp = static_cast<const P*>(mu.data);
      const P* ap = static_cast<const P*>(alpha.data);
      P* op = static_cast<P*>(out);
      const Strided* ops[3] = {&y, &mu, &alpha};
      const int64_t n = shape.size();
      const int64_t chunks = (n + kGrain - 1) / kGrain;
      std::vector<BadValue> bad(static_cast<size_t>(chunks > 0 ? chunks : 1));
      const bool dense = is_dense(shape, y) && is_dense(shape, mu) && is_dense(shape, alpha);
      parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
        if (func == NbFunc::logpmf && dense) {
          bad[static_cast<size_t>(begin / kGrain)] = logpmf_dense(yp, mp, ap, op, begin, end);
          return;
        }
        BadValue first;
        for_each_offset<3>(shape, ops, begin, end, [&](int64_t flat, int64_t oy, int64_t om, int64_t oa) {
          const Y yv = yp[oy];
          const P mv = mp[om], av = ap[oa];
          const int arg = check_triple(yv, mv, av);
          if (arg >= 0) {
            if (!first.found()) first = BadValue{flat, arg};
            op[flat] = P(NAN);
            return;
          }
          op[flat] = static_cast<P>(nb_value(func, static_cast<double>(yv), mv, av));
        });
        bad[static_cast<size_t>(begin / kGrain)].keep_first(first);
      });
      BadValue result;
      for (const auto& b : bad) result.keep_first(b);
      return result;
    });
  });
}

BadValue nb_ppf(const BroadcastShape& shape, const Strided& q, const Strided& mu, const Strided& alpha,
                DType param_dtype, int64_t* out) {
  return visit_param_dtype(param_dtype, [&](auto p_tag) {
    using P = decltype(p_tag);
    const P* qp = static_cast<const P*>(q.data);
    const P* mp = static_cast<const P*>(mu.data);
    const P* ap = static_cast<const P*>(alpha.data);
    const Strided* ops[3] = {&q, &mu, &alpha};
    const int64_t n = shape.size();
    std::vector<BadValue> bad(static_cast<size_t>((n + kGrain - 1) / kGrain + 1));
    // Dense mu and alpha, with a dense q or one q for all: the vector walk.
    const int64_t q_step = is_dense(shape, q) ? 1 : is_constant(shape, q) ? 0 : -1;
    const bool dense = q_step >= 0 && is_dense(shape, mu) && is_dense(shape, alpha);
    parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
      if (dense) {
        bad[static_cast<size_t>(begin / kGrain)] = ppf_dense(qp, q_step, mp, ap, out, begin, end);
        return;
      }
      BadValue first;
      for_each_offset<3>(shape, ops, begin, end, [&](int64_t flat, int64_t oq, int64_t om, int64_t oa) {
        const double qv = qp[oq], mv = mp[om], av = ap[oa];
        int arg = -1;
        if (!valid_q(qv)) arg = kArgQ;
        else arg = rules::param_arg(mv, av);
        if (arg >= 0) {
          if (!first.found()) first = BadValue{flat, arg};
          out[flat] = -1;
          return;
        }
        out[flat] = nb::ppf(qv, mv, av);
      });
      bad[static_cast<size_t>(begin / kGrain)].keep_first(first);
    });
    BadValue result;
    for (const auto& b : bad) result.keep_first(b);
    return result;
  });
}

BadValue nb_nll_rows(const BroadcastShape& shape, const Strided& y, DType y_dtype, const Strided& mu,
                     const Strided& alpha, DType param_dtype, int64_t row_len, double* out) {
  return visit_dtype(y_dtype, [&](auto y_tag) {
    return visit_param_dtype(param_dtype, [&](auto p_tag) {
      using Y = decltype(y_tag);
      using P = decltype(p_tag);
      const Y* yp = static_cast<const Y*>(y.data);
      const P* mp = static_cast<const P*>(mu.data);
      const P* ap = static_cast<const P*>(alpha.data);
      const Strided* ops[3] = {&y, &mu, &alpha};
      const int64_t n = shape.size();
      const int64_t rows = row_len > 0 ? (n + row_len - 1) / row_len : 0;
      std::vector<BadValue> bad(static_cast<size_t>(rows > 0 ? rows : 1));
      const int64_t row_grain = row_len >= kGrain ? 1 : (kGrain + row_len - 1) / row_len;
      parallel_for(rows, row_grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          // Neumaier-compensated sum: the total does not drift with row length.
          double sum = 0.0, comp = 0.0;
          BadValue first;
          const int64_t begin = r * row_len, end = begin + row_len < n ? begin + row_len : n;
          for_each_offset<3>(shape, ops, begin, end, [&](int64_t flat, int64_t oy, int64_t om, int64_t oa) {
            const Y yv = yp[oy];
            const P mv = mp[om], av = ap[oa];
            const int arg = check_triple(yv, mv, av);
            if (arg >= 0) {
              if (!first.found()) first = BadValue{flat, arg};
              return;
            }
            rules::neumaier_add(sum, comp, -nb::logpmf(static_cast<double>(yv), mv, av));
          });
          out[r] = sum + comp;
          bad[static_cast<size_t>(r)] = first;
        }
      });
      BadValue result;
      for (const auto& b : bad) result.keep_first(b);
      return result;
    });
  });
}

BadValue nb_sample(const BroadcastShape& shape, const Strided& mu, const Strided& alpha, DType param_dtype,
                   const Strided* keys, const Strided& step, int64_t num_samples, uint64_t seed, int64_t* out) {
  return visit_param_dtype(param_dtype, [&](auto p_tag) {
    using P = decltype(p_tag);
    const P* mp = static_cast<const P*>(mu.data);
    const P* ap = static_cast<const P*>(alpha.data);
    const int64_t* sp = static_cast<const int64_t*>(step.data);
    const int64_t* kp = keys ? static_cast<const int64_t*>(keys->data) : nullptr;
    const Strided* ops[4] = {&mu, &alpha, &step, keys ? keys : &step};
    const int64_t n = shape.size();
    const int64_t grain = num_samples >= 256 ? 16 : 4096 / num_samples + 1;
    std::vector<BadValue> chunk_bad(static_cast<size_t>((n + grain - 1) / grain + 1));
    parallel_for(n, grain, [&](int64_t begin, int64_t end) {
      BadValue first;
      for_each_offset<4>(shape, ops, begin, end, [&](int64_t flat, int64_t om, int64_t oa, int64_t os, int64_t ok) {
        const double mv = mp[om], av = ap[oa];
        int64_t* dst = out + flat * num_samples;
        const int arg = rules::param_arg(mv, av);
        if (arg >= 0) {
          if (!first.found()) first = BadValue{flat, arg};
          for (int64_t j = 0; j < num_samples; ++j) dst[j] = -1;
          return;
        }
        const uint64_t key = stream_key(seed, sp[os]);
        const uint64_t series_key = static_cast<uint64_t>(kp ? kp[ok] : flat);
        for (int64_t j = 0; j < num_samples; ++j)
          dst[j] = sampling::negbin(mv, av, key, series_key, static_cast<uint32_t>(j));
      });
      chunk_bad[static_cast<size_t>(begin / grain)].keep_first(first);
    });
    BadValue result;
    for (const auto& b : chunk_bad) result.keep_first(b);
    return result;
  });
}

}  // namespace cpu
}  // namespace skucast

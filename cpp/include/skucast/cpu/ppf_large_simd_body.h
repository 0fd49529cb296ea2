// nb::ppf's large-mean path (ppf_from_guess: means above 128, or log P(0) < -600) on kLanes
// lanes, included inside cpu/ppf_simd_body.h's namespace after exp_nonpositive (same macros;
// no include guard on purpose). The scalar path spends ~2/3 of its time in the start's cdf: an incomplete-beta
// continued fraction (negbin_log_sf_direct / negbin_log_cdf_direct) whose steps each wait on
// three divisions of one row. Here kLanes rows step together on a division-free form of the
// same fraction (large_fraction), and the pmf there comes from Stirling's series
// (large_log_pmf). Only roundings differ: the start's cdf and pmf agree with cdf() and logpmf()
// to ~1e-10 relative or better, and nb::walk_from_start decides with a 3e-8 tie margin,
// settling ties with cdf() itself, so each lane's quantile is nb::ppf's
// (tests/test_nbinom_ppf_large.py compares the two on both widths).

// Lanes waiting for the vector start: the start k, the row, and the fraction's constants in a
// form shared by the two tails. With h = 1 / A (sf: a = A = y + 1, b = n, x = q) or h = alpha
// (cdf: a = n, b = B = y + 1, x = p), step m of the scalar fractions reads
//   e_m = 1 / (1 + h (2m - 1)),  ratio_m = 1 + h (m - 1),  w_m = m (beta - gamma m) kappa4,
//   a_m = ratio_m (ratio_m kappa1 + kappa2) e_m^2 w_m kappa5,
//   b_m = m + w_m h e_m + (1 + h m) e_{m+1} (c + m (1 + rho)),
// the prefactor being pmf(y) mu p (1 + alpha y) for both.
struct LargeQueue {
  static constexpr int kCapacity = 256;
  static constexpr int kSlots = kCapacity + kLanes;  // padding to whole lane groups
  double y[kSlots], mu[kSlots], alpha[kSlots], q[kSlots], is_cdf[kSlots];
  double h[kSlots], kappa1[kSlots], kappa2[kSlots], beta[kSlots], gamma[kSlots], kappa4[kSlots], kappa5[kSlots];
  double c[kSlots], one_rho[kSlots], pref[kSlots];
  double n[kSlots], p[kSlots], one_m_p[kSlots];  // 1 / alpha, 1 / (1 + alpha mu), alpha mu p
  int64_t index[kSlots];
  int size = 0;
};

// Queues row `index` for the vector start, or returns false when its start falls where the
// scalar cdf() takes another method (Poisson limit, heavy-tail expansion, the short finite sum
// below 65) or where the shared form's products could leave the double range. (alpha <= 1e3 here
// and n >= 1 in large_log_pmf are guards only: with means above 128, alpha >= 1 is already the
// heavy tail's or the finite sum's.)
inline bool queue_large(LargeQueue& lq, double q, double z, double mu, double alpha, int64_t index) {
  const nb::GuessStart start = nb::cornish_fisher_start(z, mu, alpha);
  const double y = static_cast<double>(start.k);
  if (!(alpha > 0.0 && alpha <= 1e3 && mu <= 1e12 && y >= 1.0 && y <= 1e15)) return false;
  if (nb::poisson_limit(y, mu, alpha) || nb::heavy_tail_sf(y, mu, alpha)) return false;
  const bool is_cdf = y + 2.0 < mu * (1.0 + alpha);
  if (is_cdf && y <= 64.0) return false;
  const int s = lq.size++;
  const double p = 1.0 / (1.0 + alpha * mu);
  const double mu_p = mu * p;
  lq.y[s] = y, lq.mu[s] = mu, lq.alpha[s] = alpha, lq.q[s] = q, lq.index[s] = index;
  lq.is_cdf[s] = is_cdf ? 1.0 : 0.0;
  lq.n[s] = 1.0 / alpha, lq.p[s] = p, lq.one_m_p[s] = alpha * mu_p;
  lq.pref[s] = mu_p * (1.0 + alpha * y);
  const double b = y + 1.0;  // A (sf) or B (cdf)
  if (is_cdf) {
    lq.h[s] = alpha, lq.kappa1[s] = 1.0, lq.kappa2[s] = b * alpha, lq.beta[s] = b, lq.gamma[s] = 1.0;
    lq.kappa4[s] = p, lq.kappa5[s] = p, lq.c[s] = 1.0 + p * (mu - b), lq.one_rho[s] = 1.0 + alpha * mu_p;
  } else {
    const double h = 1.0 / b;
    lq.h[s] = h, lq.kappa1[s] = alpha * mu_p, lq.kappa2[s] = mu_p * h, lq.beta[s] = 1.0, lq.gamma[s] = alpha;
    lq.kappa4[s] = mu_p, lq.kappa5[s] = 1.0, lq.c[s] = 1.0 + p * (b - mu), lq.one_rho[s] = 1.0 + p;
  }
  return true;
}

// Copies slot 0 of the last group into its unused slots: padding lanes then run a real row's
// fraction (their results are not read).
inline void pad_large(LargeQueue& lq) {
  const int last = lq.size - lq.size % kLanes;
  if (last == lq.size) return;
  for (int s = lq.size; s < last + kLanes; ++s) {
    lq.y[s] = lq.y[last], lq.mu[s] = lq.mu[last], lq.alpha[s] = lq.alpha[last], lq.q[s] = lq.q[last];
    lq.is_cdf[s] = lq.is_cdf[last], lq.h[s] = lq.h[last], lq.kappa1[s] = lq.kappa1[last];
    lq.kappa2[s] = lq.kappa2[last], lq.beta[s] = lq.beta[last], lq.gamma[s] = lq.gamma[last];
    lq.kappa4[s] = lq.kappa4[last], lq.kappa5[s] = lq.kappa5[last], lq.c[s] = lq.c[last];
    lq.one_rho[s] = lq.one_rho[last], lq.pref[s] = lq.pref[last], lq.index[s] = lq.index[last];
    lq.n[s] = lq.n[last], lq.p[s] = lq.p[last], lq.one_m_p[s] = lq.one_m_p[last];
  }
}

// 2^-e for lanes whose positive normal value v has exponent e: multiplying by it keeps every
// bit (a rescale of the convergents that rounds nothing).
SKUCAST_SIMD_FN D inverse_exponent_scale(D v) {
  const U biased = ((U)v >> 52) & 0x7ff;  // e + 1023, in [1, 2046] for normal v
  return (D)((U{} + 2046 - biased) << 52);
}

// The fraction r of slots [at, at + kLanes). Its convergents P_m / Q_m are multiplied by
// sigma_m = s_m s_{m+1} (s_m = 1 + h (2m - 1) = 1 / e_m) per step, which clears every
// denominator from the coefficients: P_m = B_m P_{m-1} + A_m P_{m-2} with
//   B_m = s_m s_{m+1} m + s_{m+1} w_m h + s_m (1 + h m) (c + m (1 + rho)),
//   A_m = s_{m-1} s_{m+1} ratio_m (ratio_m kappa1 + kappa2) w_m kappa5   (s_0 read as 1 / s_1),
// so the recurrence carries only multiplies and adds from step to step; it is rescaled by exact
// powers of two, and r = P_m / Q_m is formed every 4th step, where the lanes stop once
// consecutive convergents agree to kFracEps (nb::recurrence_fraction's test, taken at the
// 4th steps only: a lane stops within a few steps of where the scalar one does). *done: the
// lanes that stopped within the cap.
SKUCAST_SIMD_FN D large_fraction(const LargeQueue& lq, int at, Mask* done_out) {
  constexpr int kMaxSteps = 512;  // the scalar fraction needs 10-40 here; beyond: the scalar path
  const D h = load(lq.h + at), kappa1 = load(lq.kappa1 + at), kappa2 = load(lq.kappa2 + at);
  const D beta = load(lq.beta + at), gamma = load(lq.gamma + at), kappa4 = load(lq.kappa4 + at);
  const D kappa5 = load(lq.kappa5 + at), c = load(lq.c + at), one_rho = load(lq.one_rho + at);
  const D s1 = 1.0 + h;
  D s_prev = 1.0 / s1, s = s1;
  D p0 = splat(0.0), q0 = splat(1.0), p1 = splat(1.0), q1 = c / s1;  // P_{-1}, Q_{-1}, P_0, Q_0
  D result = splat(0.0);
  Mask done = Mask{};
  for (int m = 1; m <= kMaxSteps; ++m) {
    const double md = m;
    const D s_next = s + (h + h);
    const D ratio = 1.0 + h * (md - 1.0);
    const D w = md * (beta - gamma * md) * kappa4;
    const D a = (s_prev * s_next) * (ratio * (ratio * kappa1 + kappa2)) * (w * kappa5);
    const D b = s_next * (s * md + w * h) + s * ((1.0 + h * md) * (c + md * one_rho));
    const D p2 = b * p1 + a * p0, q2 = b * q1 + a * q0;
    p0 = p1, q0 = q1, p1 = p2, q1 = q2;
    s_prev = s, s = s_next;
    if ((m & 1) == 0) {
      const D scale = inverse_exponent_scale(q1);
      p0 = p0 * scale, q0 = q0 * scale, p1 = p1 * scale, q1 = q1 * scale;
    }
    if ((m & 3) == 0) {
      const D x = 1.0 / (q0 * q1);
      const D r1 = p1 * q0 * x, r0 = p0 * q1 * x;
      const D change = r1 - r0;
      const Mask stop = (change <= nb::kFracEps * r1) & (-change <= nb::kFracEps * r1) & normal_positive(q1);
      result = select(done, result, r1);
      done = done | stop;
      if (lane_bits(done) == (1u << kLanes) - 1) break;
    }
  }
  *done_out = done;
  return result;
}

// log Gamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)) for x >= 15: Stirling's series to
// x^-9 (the next term is below 2.2e-16 there).
SKUCAST_SIMD_FN D stirling_tail(D x) {
  const D r = 1.0 / x, r2 = r * r;
  return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 * (1.0 / 1188)))));
}

// (x - 1/2) log x - x + stirling_tail(x) = log Gamma(x) - log sqrt(2 pi), x >= 15; *size gains
// the magnitude of its parts (for the rounding bound).
SKUCAST_SIMD_FN D log_gamma_part(D x, D* size) {
  const D log_x = log_normal(x);
  const D big = (x - 0.5) * log_x;
  *size = *size + big + x;
  return (big - x) + stirling_tail(x);
}

// log pmf(y) of slots [at, at + kLanes) from log Gammas (Stirling's series; n = 1 / alpha is
// first raised to 15 or more by the recurrence), and *ok: the lanes where that holds to 1e-10
// absolute — the parts' sum of magnitudes is below 1e5, so the few-ulp roundings of each part
// stay below 1e-10 — and n >= 1. The start needs the pmf only to ~1e-10 relative (ties are
// settled by cdf() itself); other lanes take nb::logpmf.
SKUCAST_SIMD_FN D large_log_pmf(const LargeQueue& lq, int at, Mask* ok) {
  const D y = load(lq.y + at), n = load(lq.n + at), p = load(lq.p + at), one_m_p = load(lq.one_m_p + at);
  D shifted = n, prod = splat(1.0);  // Gamma(n) = Gamma(shifted) / prod
  for (int j = 0; j < 14; ++j) {
    const Mask low = shifted < 15.0;
    prod = select(low, prod * shifted, prod);
    shifted = select(low, shifted + 1.0, shifted);
  }
  D size = splat(0.0);
  const D sum = log_gamma_part(n + y, &size) - log_gamma_part(shifted, &size) - log_gamma_part(y + 1.0, &size);
  const D log_p = n * log_normal(p), log_q = y * log_normal(one_m_p);
  const D log_prod = log_normal(prod);
  size = size + log_prod - log_p - log_q;
  const D log_pmf = ((sum + log_prod) - 0.91893853320467274178) + (log_p + log_q);
  *ok = (n >= 1.0) & (shifted >= 15.0) & (size < 1e5) & (log_pmf <= 0.0) & (log_pmf >= -700.0);
  return log_pmf;
}

// Every queued lane's quantile into out, or its row into `scalar` (for nb::ppf itself) when the
// vector start did not apply.
SKUCAST_SIMD_FN void finish_large(LargeQueue& lq, int64_t* out, int64_t* scalar, int& num_scalar) {
  pad_large(lq);
  for (int at = 0; at < lq.size; at += kLanes) {
    Mask done;
    const D r = large_fraction(lq, at, &done);
    const D pref = load(lq.pref + at);
    const Mask ok = done & normal_positive(r) & normal_positive(pref);
    alignas(64) double log_rest[kLanes];
    store(log_rest, log_normal(select(ok, pref, splat(1.0))) + log_normal(select(ok, r, splat(1.0))));
    Mask pmf_ok;
    const D log_pmf_v = large_log_pmf(lq, at, &pmf_ok);
    const D lt_v = log_pmf_v + load(log_rest);
    const Mask vec_ok = pmf_ok & (lt_v <= 0.0) & (lt_v >= -700.0);
    const D tail = exp_nonpositive(select(vec_ok, lt_v, D{}));
    alignas(64) double c_v[kLanes], term_v[kLanes];
    store(c_v, select(load(lq.is_cdf + at) != 0.0, tail, 1.0 - tail));
    store(term_v, exp_nonpositive(select(vec_ok, log_pmf_v, D{})));
    const unsigned ok_bits = lane_bits(ok), vec_bits = lane_bits(vec_ok);
    const int count = lq.size - at < kLanes ? lq.size - at : kLanes;
    for (int j = 0; j < count; ++j) {
      const int s = at + j;
      if (!(ok_bits >> j & 1)) {
        scalar[num_scalar++] = lq.index[s];
        continue;
      }
      const double y = lq.y[s], mu = lq.mu[s], alpha = lq.alpha[s], q = lq.q[s];
      double c = c_v[j], term = term_v[j];
      if (!(vec_bits >> j & 1)) {  // the pmf from nb::logpmf
        const double log_pmf = nb::logpmf(y, mu, alpha);
        const double lt = log_pmf + log_rest[j];
        c = lq.is_cdf[s] != 0.0 ? exp(lt) : -expm1(lt);
        term = exp(log_pmf);
      }
      const int64_t k = static_cast<int64_t>(y);
      out[lq.index[s]] = nb::start_is_far(q, c, term) ? nb::ppf_from_guess(q, mu, alpha)
                                                      : nb::walk_from_start(k, c, term, q, mu, alpha);
    }
  }
  lq.size = 0;
}


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

// Rows waiting for the vector start: q, z = normal_ppf(q), mu, alpha and the row.
struct LargeQueue {
  static constexpr int kCapacity = 256;
  static constexpr int kSlots = kCapacity + kLanes;  // padding to whole lane groups
  double q[kSlots], z[kSlots], mu[kSlots], alpha[kSlots];
  int64_t index[kSlots];
  int size = 0;
  void push(double qv, double zv, double m, double a, int64_t i) {
    q[size] = qv, z[size] = zv, mu[size] = m, alpha[size] = a, index[size] = i;
    ++size;
  }
  // Copies the last group's first slot into its unused slots: padding lanes then run a real
  // row (their results are not read).
  void pad() {
    const int last = size - size % kLanes;  // the last group's first slot
    if (last == size) return;  // whole groups
    for (int s = size; s < last + kLanes; ++s) {
      q[s] = q[last], z[s] = z[last], mu[s] = mu[last], alpha[s] = alpha[last], index[s] = index[last];
    }
  }
};

// One lane group's start: the Cornish-Fisher start y (nb::cornish_fisher_start's operations),
// and the fraction's constants in a form shared by the two tails. With h = 1 / A (sf: a = A =
// y + 1, b = n, x = q) or h = alpha (cdf: a = n, b = B = y + 1, x = p), step m of the scalar
// fractions reads
//   e_m = 1 / (1 + h (2m - 1)),  ratio_m = 1 + h (m - 1),  w_m = m (beta - gamma m) kappa4,
//   a_m = ratio_m (ratio_m kappa1 + kappa2) e_m^2 w_m kappa5,
//   b_m = m + w_m h e_m + (1 + h m) e_{m+1} (c + m (1 + rho)),
// the prefactor being pmf(y) mu p (1 + alpha y) for both.
struct LargeStart {
  D q, y, h, kappa1, kappa2, beta, gamma, kappa4, kappa5, c, one_rho, pref;
  D n, p, one_m_p;  // 1 / alpha, 1 / (1 + alpha mu), alpha mu p
  Mask is_cdf;
  Mask ok;  // the lanes where the start applies; the others go to nb::ppf
};

// floor lane by lane (exact, as the scalar call).
SKUCAST_SIMD_FN D lanes_floor(D x) {
#if SKUCAST_SIMD_LANES == 8
  return (D)_mm512_roundscale_pd((__m512d)x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
#else
  return (D)_mm256_floor_pd((__m256d)x);
#endif
}

// ok excludes starts where the scalar cdf() takes another method (Poisson limit, heavy-tail
// expansion, the short finite sum below 65) and where the shared form's products could leave
// the double range. (alpha <= 1e3 here and n >= 1 in large_log_pmf are guards only: with means
// above 128, alpha >= 1 is already the heavy tail's or the finite sum's.)
SKUCAST_SIMD_FN LargeStart large_start(const LargeQueue& lq, int at) {
  LargeStart st;
  const D mu = load(lq.mu + at), alpha = load(lq.alpha + at), z = load(lq.z + at);
  st.q = load(lq.q + at);
  const D am = alpha * mu;
  const D sd = square_root(mu) * square_root(1.0 + am);
  const D skew = (1.0 + 2.0 * am) / sd;
  const D guess = lanes_floor(mu + sd * (z + skew / 6.0 * (z * z - 1.0)));
  const D y = select(guess >= 0.0, select(guess > 1e18, splat(1e18), guess), D{});  // nb::start_index
  st.y = y;
  const D t = y + mu + 1.0;
  const Mask poisson = alpha * t * t < nb::kPoissonLimit;
  const Mask heavy = (alpha >= 1.0) & (y >= 65.0) & (am >= 1.0);
  st.is_cdf = y + 2.0 < mu * (1.0 + alpha);
  st.ok = (alpha > 0.0) & (alpha <= 1e3) & (mu <= 1e12) & (y >= 1.0) & (y <= 1e15) & ~poisson & ~heavy &
          ~(st.is_cdf & (y <= 64.0));
  const D p = 1.0 / (1.0 + am);
  const D mu_p = mu * p;
  const D b = y + 1.0;  // A (sf) or B (cdf)
  const Mask cdf = st.is_cdf;
  st.n = 1.0 / alpha, st.p = p, st.one_m_p = alpha * mu_p;
  st.pref = mu_p * (1.0 + alpha * y);
  st.h = select(cdf, alpha, 1.0 / b);
  st.kappa1 = select(cdf, splat(1.0), alpha * mu_p);
  st.kappa2 = select(cdf, b * alpha, mu_p * st.h);
  st.beta = select(cdf, b, splat(1.0));
  st.gamma = select(cdf, splat(1.0), alpha);
  st.kappa4 = select(cdf, p, mu_p);
  st.kappa5 = select(cdf, p, splat(1.0));
  st.c = select(cdf, 1.0 + p * (mu - b), 1.0 + p * (b - mu));
  st.one_rho = select(cdf, 1.0 + alpha * mu_p, 1.0 + p);
  return st;
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
// consecutive convergents agree to 1e-12 relative. That is all the walk's 3e-8 tie margin
// needs: with positive coefficients the convergents bracket r, and where they do not, a
// fraction that converges within the 512-step cap shrinks its steps by a ratio of at most
// 0.95, which leaves an error below 2e-11 (stopping at 1e-12 instead of DBL_EPSILON: ~10% of
// the large means' time). *done: the lanes that stopped within the cap.
SKUCAST_SIMD_FN D large_fraction(const LargeStart& st, Mask* done_out) {
  constexpr int kMaxSteps = 512;  // the scalar fraction needs 10-40 here; beyond: the scalar path
  constexpr double kStopEps = 1e-12;  // relative change of r between checks
  const D h = st.h, kappa1 = st.kappa1, kappa2 = st.kappa2, beta = st.beta, gamma = st.gamma;
  const D kappa4 = st.kappa4, kappa5 = st.kappa5, c = st.c, one_rho = st.one_rho;
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
      const Mask stop = (change <= kStopEps * r1) & (-change <= kStopEps * r1) & normal_positive(q1);
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

// log pmf(y) of a lane group from log Gammas (Stirling's series; n = 1 / alpha is
// first raised to 15 or more by the recurrence), and *ok: the lanes where that holds to 1e-10
// absolute — the parts' sum of magnitudes is below 1e5, so the few-ulp roundings of each part
// stay below 1e-10 — and n >= 1. The start needs the pmf only to ~1e-10 relative (ties are
// settled by cdf() itself); other lanes take nb::logpmf.
SKUCAST_SIMD_FN D large_log_pmf(const LargeStart& st, Mask* ok) {
  const D y = st.y, n = st.n, p = st.p, one_m_p = st.one_m_p;
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

// nb::walk_from_start's tie test: neither cdf(k) = c nor cdf(k - 1) = c - term within tol of q.
SKUCAST_SIMD_FN Mask clear_of_tie(D q, D c, D term, D tol) {
  const D above = c - q, below = c - term - q;
  return ~(((above <= tol) & (-above <= tol)) | ((below <= tol) & (-below <= tol)));
}

// nb::pmf_ratio_up lane by lane, the same operations.
SKUCAST_SIMD_FN D lanes_ratio_up(D k, D mu, D alpha) {
  return mu * (1.0 + alpha * k) / ((1.0 + alpha * mu) * (k + 1.0));
}

// Every queued lane's quantile into out, or its row into `scalar` (for nb::ppf itself) when the
// vector start did not apply. A lane whose quantile is its start or one step from it, clear of
// a tie, is written here; the others walk in nb::walk_from_start.
SKUCAST_SIMD_FN void finish_large(LargeQueue& lq, int64_t* out, int64_t* scalar, int& num_scalar) {
  lq.pad();
  for (int at = 0; at < lq.size; at += kLanes) {
    const LargeStart st = large_start(lq, at);
    Mask done;
    const D r = large_fraction(st, &done);
    const Mask ok = st.ok & done & normal_positive(r) & normal_positive(st.pref);
    const D log_rest = log_normal(select(ok, st.pref, splat(1.0))) + log_normal(select(ok, r, splat(1.0)));
    Mask pmf_ok;
    const D log_pmf = large_log_pmf(st, &pmf_ok);
    const D lt = log_pmf + log_rest;
    const Mask vec_ok = ok & pmf_ok & (lt <= 0.0) & (lt >= -700.0);
    const D tail = exp_nonpositive(select(vec_ok, lt, D{}));
    const D c = select(st.is_cdf, tail, 1.0 - tail);
    const D term = exp_nonpositive(select(vec_ok, log_pmf, D{}));
    // nb::walk_from_start's walk when it takes no step or one (most lanes), with its operations
    // and tie tests: the quantile is the start, one above or one below, clear of a tie.
    const D q = st.q, y = st.y, mu = load(lq.mu + at), alpha = load(lq.alpha + at);
    const D tol0 = select(q > c, q, c) * 3e-8, tol1 = select(q > c, q, c) * (3e-8 + 1e-15);
    const Mask stay = (c >= q) & (c - term < q) & clear_of_tie(q, c, term, tol0);
    const D term_up = term * lanes_ratio_up(y, mu, alpha), c_up = c + term_up;
    const Mask up = (c < q) & (c_up >= q) & clear_of_tie(q, c_up, term_up, tol1);
    const D c_down = c - term, term_down = term / lanes_ratio_up(y - 1.0, mu, alpha);
    const Mask down = (y >= 2.0) & (c_down >= q) & (c_down - term_down < q) & clear_of_tie(q, c_down, term_down, tol1);
    const Mask settled = vec_ok & (stay | up | down);
    alignas(64) double c_l[kLanes], term_l[kLanes], log_rest_l[kLanes], y_l[kLanes], k_l[kLanes];
    store(c_l, c), store(term_l, term), store(log_rest_l, log_rest), store(y_l, y);
    store(k_l, select(up, y + 1.0, select(down, y - 1.0, y)));
    const unsigned ok_bits = lane_bits(ok), vec_bits = lane_bits(vec_ok), settled_bits = lane_bits(settled);
    const unsigned cdf_bits = lane_bits(st.is_cdf);
    const int count = lq.size - at < kLanes ? lq.size - at : kLanes;
    for (int j = 0; j < count; ++j) {
      const int s = at + j;
      const int64_t k = static_cast<int64_t>(y_l[j]);
      if (settled_bits >> j & 1) {
        out[lq.index[s]] = static_cast<int64_t>(k_l[j]);
        continue;
      }
      if (!(ok_bits >> j & 1)) {
        scalar[num_scalar++] = lq.index[s];
        continue;
      }
      const double mu = lq.mu[s], alpha = lq.alpha[s], q = lq.q[s];
      double cj = c_l[j], tj = term_l[j];
      if (!(vec_bits >> j & 1)) {  // the pmf from nb::logpmf
        const double lp = nb::logpmf(y_l[j], mu, alpha);
        const double ltj = lp + log_rest_l[j];
        cj = (cdf_bits >> j & 1) ? exp(ltj) : -expm1(ltj);
        tj = exp(lp);
      }
      out[lq.index[s]] = nb::start_is_far(q, cj, tj) ? nb::ppf_from_guess(q, mu, alpha)
                                                     : nb::walk_from_start(k, cj, tj, q, mu, alpha);
    }
  }
  lq.size = 0;
}

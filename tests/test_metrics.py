"""Metrics of the evaluation protocol: fair CRPS vs brute force, randomized-PIT coverage is
nominal for a calibrated count forecast, and the M5 CA_1 cross-check figures."""
import os

import numpy as np
import pytest

import skucast
from skucast import metrics


def test_crps_fair_brute_force(rng):
    s = rng.negative_binomial(2, 0.3, size=(4, 7, 3)).astype(np.float64)
    y = rng.integers(0, 10, size=(4, 3)).astype(np.float64)
    got = metrics.crps_fair(s, y)
    S = s.shape[1]
    t1 = np.abs(s - y[:, None]).mean(1)
    t2 = np.abs(s[:, :, None] - s[:, None, :]).sum((1, 2)) / (2 * S * (S - 1))
    np.testing.assert_allclose(got, t1 - t2, rtol=1e-12, atol=1e-12)


def test_pit_coverage_calibrated_counts(rng):
    n, h, S = 400, 5, 2000
    mu = rng.uniform(0.1, 3, size=(n, 1)) * np.ones((1, h))
    samples = skucast.nbinom.sample(mu, 0.5, S, seed=1).transpose(0, 2, 1)
    y = skucast.nbinom.sample(mu, 0.5, 1, seed=2)[..., 0]
    for c in (0.5, 0.9):
        cov = metrics.pit_coverage(samples, y, (1 - c) / 2, (1 + c) / 2).mean()
        assert abs(cov - c) < 0.02
    q = skucast.quantiles(samples, [0.25, 0.75], axis=1)
    assert metrics.closed_coverage(y, q[..., 0], q[..., 1]).mean() > 0.6   # ties at 0 over-cover


def test_naive_scales_from_first_sale():
    sq, ab = metrics.naive_scales([[0, 0, 2, 4, 1], [1, 1, 1, 1, 1]])
    np.testing.assert_allclose(sq, [(4 + 9) / 2, 0.0])
    np.testing.assert_allclose(ab, [(2 + 3) / 2, 0.0])


M5 = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "m5-ca1"))


@pytest.mark.skipif(not os.path.isdir(M5), reason="M5 data not found")
def test_m5_cross_check_figures():
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from skucast.data import load_m5, m5_eval_arrays, split_future
    df = load_m5(M5)                      # scales use the whole history from the first sale
    train, _, test = split_future(df, "2016-03-27", 28)
    uids, hist, y, dollar, groups = m5_eval_arrays(train, test)
    mean28 = np.repeat(hist[:, -28:].mean(1, keepdims=True), 28, 1)
    snaive = np.tile(hist[:, -7:], 4)
    dow = np.stack([hist[:, -56 + k::7][:, -8:].mean(1) for k in range(7)], 1)
    dow = np.tile(dow, 4)
    expect = {"mean28": (mean28, 0.8351, 1.0322), "snaive": (snaive, 1.0715, 0.9075), "dow": (dow, 0.8329, 0.5674)}
    for name, (point, item, overall) in expect.items():
        r = skucast.metrics.evaluate_hierarchy(hist, y, dollar, groups, point=point)
        assert r["item"]["WRMSSE"] == pytest.approx(item, abs=1e-4), name
        assert r["overall"]["WRMSSE"] == pytest.approx(overall, abs=1e-4), name


def test_hierarchy_uses_summed_paths(rng):
    n, S, h = 6, 50, 4
    samples = rng.integers(0, 5, size=(n, S, h))
    y = rng.integers(0, 5, size=(n, h)).astype(np.float64)
    hist = rng.integers(0, 5, size=(n, 30)).astype(np.float64)
    hist[:, 0] = 1
    dollar = rng.uniform(1, 2, n)
    groups = {"item": (np.arange(n), n), "dept": (np.array([0, 0, 1, 1, 1, 0]), 2), "store": (np.zeros(n, int), 1)}
    r = metrics.evaluate_hierarchy(hist, y, dollar, groups, samples=samples, levels=[0.1, 0.5, 0.9])
    # store level by hand: quantiles of the summed paths, pinball / mean |naive diff|
    tot = samples.sum(0)                                            # (S, h)
    q = np.quantile(tot, [0.1, 0.5, 0.9], axis=0, method="inverted_cdf").T
    yt = y.sum(0)
    pin = np.mean([np.where(yt >= q[:, k], (yt - q[:, k]) * u, (q[:, k] - yt) * (1 - u)).mean()
                   for k, u in enumerate([0.1, 0.5, 0.9])])
    scale = np.abs(np.diff(hist.sum(0))).mean()
    assert r["store"]["WSPL"] == pytest.approx(pin / scale, rel=1e-12)
    assert r["store"]["WRMSSE"] == pytest.approx(
        np.sqrt(((yt - tot.mean(0)) ** 2).mean() / (np.diff(hist.sum(0)) ** 2).mean()), rel=1e-12)
    assert set(r["overall"]) >= {"WRMSSE", "WSPL", "PIT coverage 0.5"} and "CRPS" not in r["overall"]

"""The common shock: mean 1 / given variance, counter-based (independent of the number of
paths and of chunking), and its moment calibration recovers a known variance."""
import numpy as np
import pytest

from skucast import baselines as b
from skucast.common_shock import calibrate_shock_variance, gamma_shock


def test_gamma_shock_moments_and_prefix():
    g = gamma_shock(0.04, 20000, 3, seed=5)
    assert g.mean() == pytest.approx(1.0, abs=0.01)
    assert g.var() == pytest.approx(0.04, rel=0.05)
    np.testing.assert_array_equal(gamma_shock(0.04, 7, 3, seed=5), g[:7])
    np.testing.assert_array_equal(gamma_shock(0.04, 7, 2, seed=5), g[:7, :2])
    assert not np.array_equal(gamma_shock(0.04, 7, 3, seed=6), g[:7])
    np.testing.assert_array_equal(gamma_shock(0.0, 4, 2), np.ones((4, 2)))
    with pytest.raises(ValueError, match="variance"):
        gamma_shock(-1, 4, 2)


def test_shocked_nb_paths_identical_across_chunkings():
    rng = np.random.default_rng(0)
    point = rng.uniform(0, 5, (10, 6))
    alpha = rng.uniform(0, 1, 10)
    keys = np.arange(100, 110)
    g = gamma_shock(0.05, 30, 6, seed=2)
    whole = b.nb_paths(point, alpha, 30, seed=2, keys=keys, shock=g)
    parts = np.concatenate([b.nb_paths(point[a:a + 3], alpha[a:a + 3], 30, seed=2, keys=keys[a:a + 3], shock=g)
                            for a in range(0, 10, 3)])
    np.testing.assert_array_equal(whole, parts)


def test_shock_correlates_the_sum_and_calibration_recovers_it():
    n, S, h, v = 200, 4000, 5, 0.03
    point = np.full((n, h), 2.0)
    alpha = np.full(n, 0.2)
    plain = b.nb_paths(point, alpha, S, seed=1).sum(0)                   # (S, h)
    shocked = b.nb_paths(point, alpha, S, seed=1, shock=gamma_shock(v, S, h, seed=1)).sum(0)
    m = n * 2.0
    v0 = n * (2 + 0.2 * 4)
    assert plain.var() == pytest.approx(v0, rel=0.1)
    assert shocked.var() == pytest.approx(v0 + v * (m * m + v0 - m), rel=0.1)


def test_calibration_recovers_a_known_shock_variance():
    # one aggregate of 100 series over 500 days: paths without a shock vs actuals with one
    n, S, h, v = 100, 200, 500, 0.03
    point = np.full((n, h), 4.0)
    alpha = np.full(n, 0.2)
    sums = b.nb_paths(point, alpha, S, seed=1).sum(0)[None]                        # (1, S, h)
    y = b.nb_paths(point, alpha, 1, seed=9, shock=gamma_shock(v, 1, h, seed=9)).sum(0)  # (1, h)
    assert calibrate_shock_variance(sums, y) == pytest.approx(v, abs=0.006)
    assert calibrate_shock_variance(sums, sums[:, 0]) < 0.003     # no shock in the actuals
    with pytest.raises(ValueError, match="sums"):
        calibrate_shock_variance(sums, y[:, :3])


def test_group_shock_shares_factors_within_a_group():
    from skucast.common_shock import group_shock, nested_variance
    keys_store = np.zeros(5, np.int64)
    keys_dept = np.array([3, 3, 8, 8, 8])
    lv = {"store_id": (0.02, keys_store), "dept_id": (0.05, keys_dept)}
    g = group_shock(lv, 40, 6, seed=1)
    assert g.shape == (5, 40, 6)
    np.testing.assert_array_equal(g[0], g[1])
    np.testing.assert_array_equal(g[2], g[4])
    assert not np.array_equal(g[0], g[2])
    # a series' factors do not depend on the other series or on the number of paths
    alone = group_shock({"store_id": (0.02, keys_store[2:3]), "dept_id": (0.05, keys_dept[2:3])}, 10, 6, seed=1)
    np.testing.assert_array_equal(alone[0], g[2, :10])
    # store factor x department factor: product of the two single-level factors
    np.testing.assert_allclose(g, group_shock({"store_id": lv["store_id"]}, 40, 6, seed=1)
                               * group_shock({"dept_id": lv["dept_id"]}, 40, 6, seed=1))
    # (1 + 0.02)(1 + v) = 1 + 0.071 -> v = 1.071 / 1.02 - 1 = 0.05
    assert nested_variance(0.02, 0.071) == pytest.approx(0.05)
    assert nested_variance(0.1, 0.05) == 0.0
    with pytest.raises(ValueError, match="keys"):
        group_shock({"dept_id": (0.05, np.array([-1]))}, 4, 2)


def test_calibration_refuses_non_finite_input():
    from skucast.common_shock import calibrate_shock_variance
    with pytest.raises(ValueError, match="sums, y: must be finite"):
        calibrate_shock_variance(np.ones((2, 5, 3)), np.full((2, 3), np.nan))

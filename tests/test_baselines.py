"""Point baselines of the M5 evaluation against hand-computed values, their residual-based
distributions, and the common shock (tests/test_common_shock.py covers its determinism)."""
import numpy as np
import pytest

from skucast import baselines as b

H = np.array([[0, 3, 0, 0, 6.0],      # leading zero, intermittent
              [0, 0, 0, 0, 0.0],      # never sold
              [0, 0, 0, 0, 2.0],      # one sale, on the last day
              [1, 2, 3, 4, 5.0]])


def test_naive_and_seasonal_naive():
    p, f = b.naive(H, horizon=3)
    np.testing.assert_array_equal(p, [[6] * 3, [0] * 3, [2] * 3, [5] * 3])
    np.testing.assert_array_equal(f[3], [np.nan, 1, 2, 3, 4])
    p, f = b.seasonal_naive(H, horizon=5, season=2)
    np.testing.assert_array_equal(p[0], [0, 6, 0, 6, 0])
    np.testing.assert_array_equal(f[3], [np.nan, np.nan, 1, 2, 3])


def test_window_mean():
    p, f = b.window_mean(H, horizon=2, window=3)
    np.testing.assert_allclose(p[:, 0], [2, 0, 2 / 3, 4])
    np.testing.assert_allclose(f[0], [np.nan, np.nan, np.nan, 1, 1])
    np.testing.assert_allclose(f[3, 3:], [2, 3])


def test_croston_sba_tsb_by_hand():
    # row 0: first sale 3 on day 1 -> z=3, p=1; demand 6 after an interval of 3 on day 4:
    # z = 3 + 0.1 (6 - 3) = 3.3, p = 1 + 0.1 (3 - 1) = 1.2 -> 2.75; SBA x 0.95 = 2.6125
    p, f = b.croston(H, horizon=2)
    # row 3: a sale every day, p stays 1, z = 1 -> 1.1 -> 1.29 -> 1.561 -> 1.9049
    np.testing.assert_allclose(p[:, 0], [2.75, 0, 2, 1.9049])
    np.testing.assert_allclose(f[0], [np.nan, np.nan, 3, 3, 3])
    assert np.isnan(f[1]).all() and np.isnan(f[2]).all()
    p, _ = b.croston(H, horizon=2, sba=True)
    assert p[0, 0] == pytest.approx(2.6125)
    # TSB: d 1 -> 0.9 -> 0.81 -> 0.829 (sale), z 3 -> 3.3: forecast 0.829 * 3.3
    p, f = b.tsb(H, horizon=2)
    assert p[0, 0] == pytest.approx(0.829 * 3.3)
    np.testing.assert_allclose(f[0], [np.nan, np.nan, 3, 2.7, 2.43])
    assert p[1, 0] == 0 and p[2, 0] == 2.0


def test_ses_grid_choice_by_hand():
    # y = 4, 0, 4 from the first sale: level 4; errors -4 then 4 - 4(1-a) = 4a:
    # SSE(a) = 16 + 16 a^2 is smallest at the smallest a of the grid
    y = np.array([[0, 4, 0, 4.0], [2, 2, 2, 2.0], [0, 0, 0, 0.0]])
    p, f, a = b.ses(y, horizon=2, grid=(0.2, 0.5))
    assert a[0] == 0.2 and a[1] == 0.2 and a[2] == 0.2      # ties -> smaller value
    lvl = 4 + 0.2 * (0 - 4)
    lvl = lvl + 0.2 * (4 - lvl)
    np.testing.assert_allclose(p[:, 0], [lvl, 2, 0])
    np.testing.assert_allclose(f[0], [np.nan, np.nan, 4, 3.2])
    # a trending series prefers fast smoothing
    _, _, a = b.ses(np.arange(1, 30.0)[None], horizon=1, grid=(0.1, 0.9))
    assert a[0] == 0.9


def test_residual_nb_alpha_by_hand():
    y = np.array([[0, 2, 0, 4, 2.0]])
    fitted = np.array([[np.nan, 1, 2, 2, 2.0]])
    # residual days t > first sale (1): t = 2, 3, 4; r = -2, 2, 0; f = 2, 2, 2
    # alpha = (mean r^2 - mean f) / mean f^2 = (8/3 - 2) / 4
    np.testing.assert_allclose(b.residual_nb_alpha(y, fitted), [(8 / 3 - 2) / 4])
    assert b.residual_nb_alpha(np.zeros((1, 5)), np.zeros((1, 5)))[0] == 0   # no residual day
    # window: only the last 2 days count -> r = 2, 0: (2 - 2) / 4 = 0
    assert b.residual_nb_alpha(y, fitted, window=2)[0] == 0


def test_nb_paths_moments_and_batch_invariance():
    n, h, S = 3, 4, 4000
    point = np.array([[0.0] * h, [2.0] * h, [10.0] * h])
    alpha = np.array([0.0, 0.5, 0.1])
    s = b.nb_paths(point, alpha, S, seed=3, keys=np.array([7, 8, 9]))
    assert s.shape == (n, S, h) and s.dtype == np.int64
    assert s[0].max() <= 1                                  # mu = MIN_MU
    assert s[1].mean() == pytest.approx(2.0, rel=0.05)
    assert s[1].var() == pytest.approx(2 + 0.5 * 4, rel=0.1)
    alone = b.nb_paths(point[2:], alpha[2:], S, seed=3, keys=np.array([9]))
    np.testing.assert_array_equal(alone[0], s[2])
    with pytest.raises(ValueError, match="alpha"):
        b.nb_paths(point, alpha[:2], 10)


def test_empirical_paths_share_days_across_series():
    y = np.array([[1, 3, 1, 3.0], [2, 6, 2, 6.0]])
    p, f = b.naive(y, horizon=2)
    s = b.empirical_paths(p, y, f, num_samples=50, seed=1)
    # residual days 0..3: row 0 = 0 (no forecast), 2, -2, 2; row 1 = 0, 4, -4, 4, drawn on the
    # same days: row 0 = 3 + r, row 1 = 6 + 2 r = 2 x row 0
    np.testing.assert_array_equal(s[1], 2 * s[0])
    assert set(np.unique(s[0])) == {1.0, 3.0, 5.0}
    np.testing.assert_array_equal(b.empirical_paths(p, y, f, 20, seed=1), s[:, :20])


@pytest.mark.parametrize("fn", [b.naive, b.seasonal_naive, b.window_mean, b.croston, b.tsb])
def test_bad_input(fn):
    with pytest.raises(ValueError, match="history"):
        fn(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="horizon"):
        fn(np.ones((2, 30)), horizon=0)

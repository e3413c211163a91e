"""The engine's in-model preprocessing: frequent values, their codes and worth."""

import warnings

import numpy as np
import pytest

from skdeep._engine.preprocessing import (
    exact_value_gain,
    frequent_values,
    UNCLIPPED_BOUND,
    robust_scale,
    robust_scaling_statistics,
    value_codes,
)


def test_frequent_values_keep_the_values_seen_often_enough_sorted():
    x = np.array([3.5, 1.0, 3.5, 2.0, 1.0, 3.5, 9.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(frequent_values(x, 2), [1.0, 3.5])
    np.testing.assert_array_equal(frequent_values(x, 3), [])  # only 3.5: too few
    np.testing.assert_array_equal(frequent_values(x, 1), [1.0, 2.0, 3.5, 9.0])  # no NaN


def test_two_valued_columns_get_no_frequent_values():
    # Their scaled value already tells the two apart.
    assert frequent_values(np.array([0.0, 1.0] * 10), 2).size == 0


def test_columns_with_few_distinct_values_can_be_left_out():
    x = np.repeat([1.0, 2.0, 3.0, 4.0], 5)
    np.testing.assert_array_equal(frequent_values(x, 5, min_distinct=4), [1, 2, 3, 4])
    assert frequent_values(x, 5, min_distinct=5).size == 0


def test_value_codes_are_one_plus_the_index_and_zero_for_other_values():
    values = np.array([1.0, 3.5, 7.0])
    x = np.array([3.5, 7.0, 1.0, 2.0, np.nan, 100.0, -5.0, 3.5000001])
    np.testing.assert_array_equal(value_codes(x, values), [2, 3, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(value_codes(x, values[:0]), np.zeros(8))


def _coded_and_smooth_columns(n_samples=4000, seed=0):
    """A column whose 200 values are codes of the target, and a smooth one."""
    rng = np.random.RandomState(seed)
    codes = rng.uniform(size=200)
    label_of_code = rng.randint(2, size=200)
    index = rng.randint(200, size=n_samples)
    smooth = np.round(rng.uniform(size=n_samples), 2)  # 101 values, each often
    y = np.where(rng.uniform(size=n_samples) < 0.5, label_of_code[index], smooth > 0.5)
    return codes[index], smooth, np.eye(2)[y.astype(int)]


def test_exact_values_that_are_codes_predict_better_than_their_bins():
    coded, smooth, Y = _coded_and_smooth_columns()
    gain = exact_value_gain(coded, Y, frequent_values(coded, 8), 32)
    assert gain > 0.1
    # On a smooth quantity each value is a noisier copy of its bin.
    assert exact_value_gain(smooth, Y, frequent_values(smooth, 8), 32) < 0


def test_exact_value_gain_leaves_out_missing_rows_and_is_zero_without_values():
    coded, _, Y = _coded_and_smooth_columns()
    values = frequent_values(coded, 8)
    with_missing = np.concatenate([coded, np.full(50, np.nan)])
    Y_missing = np.concatenate([Y, np.eye(2)[np.zeros(50, dtype=int)]])
    assert exact_value_gain(with_missing, Y_missing, values, 32) == pytest.approx(
        exact_value_gain(coded, Y, values, 32))
    assert exact_value_gain(coded, Y, values[:0], 32) == 0.0


def test_scaling_statistics_of_no_columns_are_empty():
    # A table of categorical columns only has no numeric column to scale (issue 32, case 1).
    center, factor = robust_scaling_statistics(np.empty((5, 0)))
    assert center.shape == factor.shape == (0,)


@pytest.mark.parametrize("limit", [3.0, None])
def test_robust_scale_takes_huge_values_to_the_bound(limit):
    # Issue 32, case 3: the square of the smooth clip overflowed, and 1e160 became 0.
    x = np.array([[0.5], [1e160], [1.7e308], [-1e160], [-1.7e308], [np.nan]])
    center, factor = np.array([0.0]), np.array([4.0])  # 4 * 1.7e308 overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        z = robust_scale(x, center, factor, limit, out=np.empty_like(x))[:, 0]
    bound = limit if limit is not None else UNCLIPPED_BOUND
    np.testing.assert_array_equal(z[1:], [bound, bound, -bound, -bound, 0.0])
    assert -bound < z[0] <= bound


def test_robust_scale_is_the_smooth_clip_formula_in_range():
    z = np.random.RandomState(0).standard_cauchy(size=(1000, 1)) * 1e3
    expected = z / np.sqrt(1.0 + np.square(z / 3.0))
    out = robust_scale(z, np.zeros(1), np.ones(1), 3.0, out=np.empty_like(z))
    np.testing.assert_array_equal(out, expected)


def test_robust_scale_is_exact_where_the_centring_overflows():
    # Issue 32, case 21: values and a median near the float range, of opposite signs.
    from fractions import Fraction

    x = np.array([[-1.7e308], [1.6e308], [0.0]])
    center, factor = np.array([1.5e308]), np.array([1 / 1.5e308])
    z = robust_scale(x, center, factor, None, out=np.empty_like(x))[:, 0]
    exact = [float((Fraction(v) - Fraction(center[0])) * Fraction(factor[0])) for v in x[:, 0]]
    np.testing.assert_array_equal(z, exact)


def test_scaling_statistics_near_the_float_range():
    x = np.array([-1.7e308, -1.6e308, 1.6e308, 1.7e308, np.nan])[:, np.newaxis]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        center, factor = robust_scaling_statistics(x)
    # The quartiles are -/+1.625e308: a spread of 3.25e308, beyond the float range.
    assert center[0] == 0.0
    assert factor[0] == pytest.approx(0.25 / 8.125e307, rel=1e-12, abs=0)


def test_quantile_bins_merge_edges_float32_cannot_tell_apart():
    # Found by the mixed-frame property (issue 32): a column of huge values scales its
    # median to 0 and a neighbour to 1e-160, a bin whose inverse width overflows float32.
    from skdeep._engine import quantile_bins

    Z = np.array([[-3.0], [-1e-160], [0.0], [1e-160], [3.0]])
    lower, inverse_width = quantile_bins(Z, 4)
    used = inverse_width[0] > 0
    assert np.isfinite(inverse_width.astype(np.float32)).all()
    np.testing.assert_array_equal(lower[0, used], [-3.0, -1e-160])
    np.testing.assert_array_equal(inverse_width[0, used], [1 / 3.0, 1 / (3.0 + 1e-160)])
    # Ordinary edges are kept as they are.
    Z = np.linspace(-2, 2, 101)[:, np.newaxis]
    lower, inverse_width = quantile_bins(Z, 4)
    np.testing.assert_array_equal(lower[0], [-2.0, -1.0, 0.0, 1.0])

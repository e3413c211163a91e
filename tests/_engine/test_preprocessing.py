"""The engine's in-model preprocessing: frequent values and their codes."""

import numpy as np

from skdeep._engine import frequent_values, value_codes


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

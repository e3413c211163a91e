"""What a second fuzzer found (issue 32): one test per numbered case, then a property.

Each ``test_case_NN_*`` pins the fix of case NN of the issue and fails on the
code before it (commit d594d15). HistGradientBoosting's behaviour on the same
input is the reference for what a user expects. The property at the end
fits the tabular estimators on random mixed-dtype frames: fit and predict
give finite outputs of the right shape or a clear ValueError / TypeError,
and the caller's data is never changed.

Everything runs on tiny data, with tiny networks and a few epochs.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from skdeep import TabularMLPClassifier, TabularMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: A tiny tabular model: one network, one small layer, two epochs.
TINY = dict(hidden_layer_sizes=(8,), max_iter=2, n_networks=1, random_state=0)


def mixed_frame(n=60, seed=0):
    """A numeric column, a string column and a categorical column, and a target."""
    rng = np.random.RandomState(seed)
    a = rng.normal(size=n)
    city = rng.choice(["x", "y", "z"], n)
    frame = pd.DataFrame({
        "a": a,
        "city": city,
        "size": pd.Categorical(rng.choice(["s", "m", "l"], n)),
    })
    return frame, ((a > 0) ^ (city == "x")).astype(int)


# --------------------------------------------------------------------------
# High
# --------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["categorical frame", "string frame", "string array"])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_case_01_tables_without_numeric_columns_fit(form, Estimator):
    frame, y = mixed_frame()
    X = frame[["city", "size"]]
    if form == "string frame":
        X = X.astype(str)
    elif form == "string array":
        X = X.to_numpy(dtype=str)
    HistGradientBoostingClassifier(max_iter=2, categorical_features="from_dtype").fit(
        frame[["city", "size"]].astype("category"), y
    )  # the reference fits the categorical version
    model = Estimator(**TINY).fit(X, y)
    predictions = model.predict(X)
    assert predictions.shape == (len(y),)
    assert model.is_categorical_.all()
    if Estimator is TabularMLPClassifier:
        proba = model.predict_proba(X)
        assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)
    else:
        assert np.isfinite(predictions).all()

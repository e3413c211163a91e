"""scikit-learn's own ``test_mlp.py``, run with skdeep's estimators swapped in.

The installed scikit-learn's ``sklearn/neural_network/tests/test_mlp.py`` runs
in a separate pytest process with ``_sklearn_suite_plugin`` (which replaces
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` by skdeep's), so
nothing is copied from scikit-learn and nothing is patched in this process.
Every test must pass except those below: tests of sklearn's private internals
and skdeep's documented differences ("Differences from scikit-learn" in the
user guide). The list is exact: a test that starts passing must leave it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn

SKLEARN_TESTS = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"

_PRIVATE = "uses sklearn's private internals"
KNOWN_FAILURES = {
    "test_fit": (
        f"{_PRIVATE}: assembles a half-fitted model by hand (coefs_, _coef_grads, "
        "_intercept_grads, n_outputs_) and trains it with partial_fit"
    ),
    "test_gradient": f"{_PRIVATE}: calls _loss_grad_lbfgs and _unpack",
    "test_learning_rate_warmstart": f"{_PRIVATE}: reads _optimizer.learning_rate",
    "test_adaptive_learning_rate": f"{_PRIVATE}: reads _optimizer.learning_rate",
    "test_predict_proba_multilabel": (
        "documented difference: predict_log_proba is the stable log-sigmoid of the "
        "logits, not log(predict_proba); near p = 1 they differ by about 1e-16 "
        "absolute, which the test's rtol=1e-7 on values of -1e-16 rejects"
    ),
    "test_early_stopping_stratified": (
        "documented difference: when a class is too small to stratify the "
        "early-stopping split, skdeep falls back to an unstratified split instead "
        "of raising"
    ),
    "test_mlp_partial_fit_after_fit[MLPClassifier]": (
        "documented difference: partial_fit ignores early_stopping (it trains on "
        "all its data) instead of raising"
    ),
    "test_mlp_partial_fit_after_fit[MLPRegressor]": (
        "documented difference: partial_fit ignores early_stopping (it trains on "
        "all its data) instead of raising"
    ),
}


def _run_sklearn_suite(report):
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path]),
        "SKDEEP_SUITE_REPORT": str(report),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "pytest", str(SKLEARN_TESTS), "-q", "-p", "no:cacheprovider",
        "-p", "_sklearn_suite_plugin", "-p", "sklearn.conftest",
        "--rootdir", str(SKLEARN_TESTS.parent), "-o", "addopts=",
    ]
    return subprocess.run(command, env=environment, capture_output=True, text=True,
                          timeout=900, cwd=report.parent, check=False)


@pytest.mark.slow
def test_sklearns_mlp_tests_pass_with_skdeep_swapped_in(tmp_path):
    completed = _run_sklearn_suite(tmp_path / "outcomes.json")
    outcomes = json.loads((tmp_path / "outcomes.json").read_text())
    assert len(outcomes) > 50, completed.stdout[-3000:] + completed.stderr[-3000:]
    failed = sorted(name for name, outcome in outcomes.items() if outcome == "failed")
    assert failed == sorted(KNOWN_FAILURES), completed.stdout[-5000:]


def test_every_known_failure_names_its_reason():
    for name, reason in KNOWN_FAILURES.items():
        assert name.startswith("test_") and len(reason.split()) >= 6, name

"""pytest plugin: run scikit-learn's own MLP tests with skdeep's estimators.

Loaded with ``-p _sklearn_suite_plugin`` in a separate pytest process (see
``test_sklearn_mlp_suite.py``). At configuration time, before sklearn's test
module is imported, ``sklearn.neural_network.MLPClassifier`` and
``MLPRegressor`` are replaced by skdeep's, so the module's
``from sklearn.neural_network import ...`` (and its parametrizations) get
skdeep's classes. Importing this module changes nothing: the swap happens
only in the hook, in the process that loads the plugin.

The outcome of every test is written as JSON to the path in the
``SKDEEP_SUITE_REPORT`` environment variable.
"""

import json
import os

_OUTCOMES = {}


def pytest_configure(config):
    import sklearn.neural_network

    import skdeep

    sklearn.neural_network.MLPClassifier = skdeep.MLPClassifier
    sklearn.neural_network.MLPRegressor = skdeep.MLPRegressor


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::", 1)[-1]
    # A failure in setup, call or teardown is the test's outcome; otherwise
    # the call's (or a skip's).
    decisive = report.failed or report.when == "call" or report.skipped
    if decisive and _OUTCOMES.get(name) != "failed":
        _OUTCOMES[name] = report.outcome


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("SKDEEP_SUITE_REPORT")
    if path:
        with open(path, "w") as file:
            json.dump(_OUTCOMES, file, indent=1, sort_keys=True)

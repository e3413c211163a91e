"""Every public estimator documents every parameter of its constructor."""

import inspect
import re

import pytest

import skdeep

ESTIMATORS = [
    skdeep.MLPClassifier,
    skdeep.MLPRegressor,
    skdeep.TabularMLPClassifier,
    skdeep.TabularMLPRegressor,
    skdeep.MLPFeatures,
]
try:  # the data-parallel estimators need Dask
    import skdeep.dask
except ImportError:
    pass
else:
    ESTIMATORS += [skdeep.dask.MLPClassifier, skdeep.dask.MLPRegressor]


def documented_parameters(cls):
    """Names in the numpydoc "Parameters" section of ``cls``'s docstring."""
    doc = inspect.getdoc(cls)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n\n[A-Z][a-z]+( [A-Z][a-z]+)?\n-+\n", section, maxsplit=1)[0]
    names = set()
    for line in section.splitlines():
        entry = re.match(r"^(\w+(?:, \w+)*) :", line)
        if entry:
            names.update(name.strip() for name in entry.group(1).split(","))
    return names


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_parameter_is_documented(Estimator):
    parameters = set(inspect.signature(Estimator.__init__).parameters) - {"self"}
    documented = documented_parameters(Estimator)
    assert parameters - documented == set()
    assert documented - parameters == set()

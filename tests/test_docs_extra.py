"""The ``docs`` extra installs everything the documentation build imports.

Building the docs takes minutes (the gallery runs every example), too long
for the test suite, so this test checks the cheap half of "the docs extra
builds the docs on its own" (issue 32): every third-party module that the
build imports at module level (``docs/conf.py``, the gallery scripts, and
the packages the API reference documents, ``skdeep`` and ``skdeep.dask``)
belongs to a distribution that the core dependencies or the docs extra
install. The full check, from a fresh environment::

    python -m venv /tmp/docs-venv && . /tmp/docs-venv/bin/activate
    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def module_level_imports(path):
    """Top-level names of the modules ``path`` imports when it is imported or run.

    Imports inside functions run only when called (``to_onnx`` imports onnx
    lazily, for instance) and are left out; module-level ``try`` blocks count.
    """
    names = set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, (ast.Try, ast.If, ast.With)):
            pending.extend(node.body)
            pending.extend(getattr(node, "orelse", []))
            for handler in getattr(node, "handlers", []):
                pending.extend(handler.body)
    return names


def documented_packages():
    """The packages the API reference documents (its ``currentmodule`` directives)."""
    api = (ROOT / "docs" / "api.rst").read_text()
    return sorted(set(re.findall(r"\.\. currentmodule:: ([\w.]+)", api)))


def files_the_build_imports():
    files = [ROOT / "docs" / "conf.py", *sorted((ROOT / "examples").glob("*.py"))]
    for package in documented_packages():
        folder = ROOT.joinpath(*package.split("."))
        files += sorted(folder.glob("*.py"))
    return files


def distribution_names(requirements):
    """Normalised distribution names of requirement strings (extras and versions dropped)."""
    return {re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            for requirement in requirements}


def test_the_docs_extra_installs_what_the_docs_build_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = distribution_names(project["dependencies"]) | distribution_names(
        project["optional-dependencies"]["docs"]
    )
    module_to_distributions = packages_distributions()
    stdlib = set(sys.stdlib_module_names)
    missing = {}
    for path in files_the_build_imports():
        for module in module_level_imports(path) - stdlib - {"skdeep"}:
            distributions = {d.lower().replace("_", "-")
                             for d in module_to_distributions.get(module, [])}
            if not distributions:
                pytest.fail(f"{path.relative_to(ROOT)} imports {module!r}, which is not "
                            "installed here, so this test cannot check it.")
            if not distributions & installed:
                missing.setdefault(", ".join(sorted(distributions)), []).append(
                    str(path.relative_to(ROOT)))
    assert not missing, f"the docs extra lacks what the build imports: {missing}"


def test_the_check_sees_the_dask_api_pages():
    # skdeep.dask is documented, and it imports dask and distributed at import time.
    assert "skdeep.dask" in documented_packages()
    imports = set().union(*(module_level_imports(path)
                            for path in (ROOT / "skdeep" / "dask").glob("*.py")))
    assert {"dask", "distributed"} <= imports


def conf_extensions():
    """The ``extensions`` list of docs/conf.py, read without running it."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "extensions" for target in node.targets):
            return [ast.literal_eval(element) for element in node.value.elts]
    raise AssertionError("docs/conf.py sets no extensions")


def test_math_renders_offline():
    """MathJax is served from the built docs, never from a CDN (issue 33).

    ``sphinx-mathjax-offline`` copies the MathJax it ships into
    ``_static/mathjax`` and points ``mathjax_path`` at it; the docs extra
    installs it.
    """
    assert "sphinx-mathjax-offline" in conf_extensions()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "sphinx-mathjax-offline" in distribution_names(
        project["optional-dependencies"]["docs"])
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert "mathjax_path" not in conf or "http" not in conf.split("mathjax_path")[1][:200]
    # sphinx-gallery's execution-times pages load a script from a CDN.
    assert '"write_computation_times": False' in conf

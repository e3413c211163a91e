"""Sphinx configuration of skdeep's documentation.

Build (from the repository root, warnings as errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import re
import sys
import warnings
from pathlib import Path

import matplotlib

# Gallery scripts and doctests must never open a window.
matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the working tree even when skdeep is not installed.
sys.path.insert(0, str(ROOT))

import skdeep  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# The examples multiply small matrices; on a 2-core machine several BLAS
# threads only get in each other's way (and in the way of anything else
# running), so the gallery runs with one.
threadpool_limits(limits=1, user_api="blas")

# -- Project -----------------------------------------------------------------
project = "skdeep"
author = "The skdeep developers"
copyright = "The skdeep developers"
release = skdeep.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Serves MathJax from the built docs (_static/mathjax) instead of a CDN,
    # so that equations render offline (the package ships MathJax 3).
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"
default_role = "literal"
# No network at build time: no intersphinx, so references to scikit-learn
# objects stay plain text (nitpicky mode is off).
nitpicky = False

# -- autodoc / autosummary / numpydoc ---------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# The class template lists the methods itself (see _templates/autosummary).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery ----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Execute every plot_*.py script and the README's quickstart.py.
    "filename_pattern": r"[\\/](plot_|quickstart)",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    # The execution-times pages load their table script from a CDN: left out,
    # so that every page works offline.
    "write_computation_times": False,
    # "Examples using ..." sections on the API pages.
    "doc_module": ("skdeep",),
    "backreferences_dir": "generated/backreferences",
}

# plt.show() in a gallery script is harmless under Agg; do not report it.
warnings.filterwarnings("ignore", message=".*Matplotlib is currently using agg.*")

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skdeep {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}


# -- Inherited scikit-learn docstrings -----------------------------------------------
# Methods inherited from scikit-learn (score, get_params, set_fit_request ...)
# cross-reference labels and glossary terms of scikit-learn's own
# documentation, which does not exist here (and there is no network for
# intersphinx). Turn those references into plain text.
_SKLEARN_REFERENCE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<([^`>]*)>)?`")


def _plain_sklearn_references(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    for index, line in enumerate(lines):
        lines[index] = _SKLEARN_REFERENCE.sub(
            lambda match: (match.group(1) or match.group(2) or "").strip(), line
        )


# A bare name ending in "_" is a hyperlink reference in reStructuredText, so
# "of shape (n_features_in_,)" in a parameter type breaks the build; quote
# such names (scikit-learn writes them as `n_features_in_`).
_TRAILING_UNDERSCORE_IN_SHAPE = re.compile(r"(?<=[(, ])([A-Za-z]\w*_)(?=[,)])")


def _quote_fitted_attribute_names(app, what, name, obj, options, lines):
    for index, line in enumerate(lines):
        if "shape (" in line:
            lines[index] = _TRAILING_UNDERSCORE_IN_SHAPE.sub(r"`\1`", line)


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_references)
    app.connect("autodoc-process-docstring", _quote_fitted_attribute_names)

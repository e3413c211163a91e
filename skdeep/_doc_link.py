"""The "?" of an estimator's HTML repr: a link to its page in skdeep's API reference.

scikit-learn's HTML repr (in Jupyter, or ``sklearn.utils.estimator_html_repr``)
links each estimator to its documentation through three class attributes,
``_doc_link_module``, ``_doc_link_template`` and
``_doc_link_url_param_generator``; sklearn's own point to scikit-learn.org.
skdeep's point to the page the API reference builds for each estimator,
``generated/skdeep.<Name>.html`` (``skdeep.dask.<Name>`` for the Dask
estimators), under the documentation's root:

1. the ``SKDEEP_DOCS_URL`` environment variable, if set (where a team hosts
   its build of the docs, or any folder URL);
2. else the documentation built in this source tree
   (``docs/_build/html``, by ``python -m sphinx ... docs docs/_build/html``),
   as a ``file://`` URL;
3. else no link: the repr shows no "?" rather than a link to nowhere.
"""

import os
from pathlib import Path

__all__ = ["DOCS_URL_VARIABLE", "DocLinkMixin", "docs_root"]

#: The environment variable that gives the documentation's root URL.
DOCS_URL_VARIABLE = "SKDEEP_DOCS_URL"
#: Where ``docs/conf.py``'s build command writes the HTML of this source tree.
BUILT_DOCS = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
#: An API page, relative to the root (autosummary's ``generated/`` folder).
_PAGE = "generated/{estimator_module}.{estimator_name}.html"


def docs_root():
    """The root URL of skdeep's HTML documentation, or None when there is none."""
    url = os.environ.get(DOCS_URL_VARIABLE, "").strip()
    if url:
        return url.rstrip("/")
    if (BUILT_DOCS / "index.html").is_file():
        return BUILT_DOCS.as_uri()
    return None


class DocLinkMixin:
    """Point the HTML repr's documentation link at skdeep's API reference.

    Placed before ``BaseEstimator`` in the bases, so that its attributes
    replace sklearn's (the convention of ``sklearn.base``'s
    ``_HTMLDocumentationLinkMixin``). The template is read when the repr is
    drawn: docs built, or ``SKDEEP_DOCS_URL`` set, after import count.
    """

    _doc_link_module = "skdeep"
    _doc_link_url_param_generator = None

    @property
    def _doc_link_template(self):
        """The link's template; ``""`` (no link) without documentation to point at."""
        if "_doc_link_template_override" in self.__dict__:
            return self.__dict__["_doc_link_template_override"]
        root = docs_root()
        return "" if root is None else f"{root}/{_PAGE}"

    @_doc_link_template.setter
    def _doc_link_template(self, value):
        # As sklearn's: an instance may set its own template.
        self.__dict__["_doc_link_template_override"] = value

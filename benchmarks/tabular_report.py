"""Render tabular benchmark runs: comparison table, ablation table, picture.

Reads the JSONL files that ``tabular.py`` writes and prints Markdown::

    python benchmarks/tabular_report.py benchmarks/results/tabular-report.jsonl
    python benchmarks/tabular_report.py --ablation benchmarks/results/tabular-tune-ablation.jsonl
    python benchmarks/tabular_report.py --plot benchmarks/results/tabular.png \\
        benchmarks/results/tabular-tune.jsonl benchmarks/results/tabular-report.jsonl
    python benchmarks/tabular_report.py --rst benchmarks/results/tabular-report.jsonl

``--rst`` writes the reStructuredText table that the user guide includes
(mean score over the seeds per dataset, the best in bold).

The comparison counts, per model, the datasets where ``tabular`` matches or
beats it, and gives ``tabular``'s fit time as a fraction of each model's on
the datasets both fit. The ablation gives, per switched-off ingredient (or
switched-on option), the mean change of the test score against the defaults
on the same splits.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LABELS = {
    "tabular": "TabularMLP*",
    "hgb": "HistGradientBoosting*",
    "sklearn_mlp": "sklearn MLP pipeline",
    "skdeep_mlp": "skdeep MLP pipeline",
    "realmlp": "RealMLP-TD",
}


def records_frame(records, half):
    """Run records (``tabular.py``'s dicts) as a frame, without the not-applicable ones."""
    frame = pd.DataFrame(records)
    frame["half"] = half
    if "error" not in frame:
        frame["error"] = np.nan
    return frame[frame["error"] != "not applicable"]


def load(paths):
    """Every record of the JSONL files, as one frame (a column ``half`` from the name)."""
    frames = []
    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
        frames.append(records_frame(rows, Path(path).stem.removeprefix("tabular-").split("-")[0]))
    return pd.concat(frames, ignore_index=True)


def _cell(score, seconds, ran):
    if pd.notna(score):
        return f"{score:.4f} ({seconds:.1f} s)"
    return "fails" if ran else "–"


def comparison(frame):
    """Markdown: scores and fit times per dataset, means, wins and time ratios of ``tabular``."""
    ok = frame[frame["error"].isna()]
    models = [m for m in LABELS if m in set(frame["model"])]
    scores = ok.pivot_table(index="dataset", columns="model", values="score").reindex(
        columns=models)
    times = ok.pivot_table(index="dataset", columns="model", values="fit_s").reindex(
        columns=models)
    order = list(dict.fromkeys(frame["dataset"]))
    scores, times = scores.reindex(order), times.reindex(order)
    lines = ["| dataset | " + " | ".join(LABELS[m] for m in models) + " |",
             "|---|" + "---:|" * len(models)]
    for dataset in order:
        ran = set(frame.loc[frame["dataset"] == dataset, "model"])
        cells = [_cell(scores.loc[dataset, m], times.loc[dataset, m], m in ran) for m in models]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    lines.append("| **mean, all datasets** | " + " | ".join(
        f"{scores[m].mean():.4f} ({scores[m].notna().sum()})" for m in models) + " |")
    if "tabular" not in models:
        return "\n".join(lines) + "\n"
    lines += ["", "| against | datasets both fit | mean TabularMLP* | mean other "
              "| TabularMLP* matches or beats | fit time TabularMLP* / other (max, median) |",
              "|---|---:|---:|---:|---:|---|"]
    for model in [m for m in models if m != "tabular"]:
        both = scores[["tabular", model]].dropna()
        ratio = (times.loc[both.index, "tabular"] / times.loc[both.index, model])
        lines.append(
            f"| {LABELS[model]} | {len(both)} | {both['tabular'].mean():.4f} "
            f"| {both[model].mean():.4f} | {(both['tabular'] >= both[model]).sum()} of "
            f"{len(both)} | {ratio.max():.2f}, {ratio.median():.2f} |")
    return "\n".join(lines) + "\n"


def ablation_changes(frame):
    """Per variant: (name, datasets, mean change, datasets worse, worst change)."""
    ok = frame[frame["error"].isna()]
    scores = ok.pivot_table(index="dataset", columns="model", values="score")
    rows = []
    for variant in [m for m in dict.fromkeys(frame["model"]) if m.startswith("tabular-")]:
        both = scores[["tabular", variant]].dropna()
        change = both[variant] - both["tabular"]
        rows.append((variant.removeprefix("tabular-"), len(both), change.mean(),
                     int((change < 0).sum()), change.min()))
    return rows


def ablation_rst(frame):
    """reStructuredText list-table of :func:`ablation_changes`."""
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - variant", "     - tables",
             "     - mean change of the test score", "     - worse on", "     - worst change"]
    for name, n, mean, worse, worst in ablation_changes(frame):
        lines += [f"   * - ``{name}``", f"     - {n}", f"     - {mean:+.4f}",
                  f"     - {worse} of {n}", f"     - {worst:+.4f}"]
    return "\n".join(lines) + "\n"


def ablation(frame):
    """Markdown: per variant, the mean change of the score against the defaults.

    Fit times are left out: an ablation runs long enough that the load of a
    shared machine changes under it.
    """
    lines = ["| variant | datasets | mean change of test score | worse on | worst change |",
             "|---|---:|---:|---:|---:|"]
    for name, n, mean, worse, worst in ablation_changes(frame):
        lines.append(f"| {name} | {n} | {mean:+.4f} | {worse} of {n} | {worst:+.4f} |")
    return "\n".join(lines) + "\n"


def rst_table(frame, models=("tabular", "hgb", "sklearn_mlp", "realmlp")):
    """reStructuredText list-table: mean test score per dataset and model, best in bold."""
    from benchmarks.tabular_datasets import REGISTRY

    ok = frame[frame["error"].isna()]
    order = list(dict.fromkeys(frame["dataset"]))
    models = [m for m in models if m in set(frame["model"])]
    scores = ok.pivot_table(index="dataset", columns="model", values="score").reindex(
        index=order, columns=models)
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - dataset", "     - rows"]
    lines += [f"     - {LABELS[m]}" for m in models]
    for dataset in order:
        ran = set(frame.loc[frame["dataset"] == dataset, "model"])
        best = scores.loc[dataset].max()
        lines += [f"   * - {dataset}", f"     - {REGISTRY[dataset].n_rows:,}"]
        for model in models:
            score = scores.loc[dataset, model]
            if pd.isna(score):
                lines.append("     - fails" if model in ran else "     - –")
            else:
                lines.append(f"     - **{score:.3f}**" if score == best else f"     - {score:.3f}")
    lines += ["   * - mean", f"     - {len(order)} tables"]
    lines += [f"     - {scores[m].mean():.3f} ({scores[m].notna().sum()})" for m in models]
    return "\n".join(lines) + "\n"


def plot(frame, path):
    """Score minus HistGradientBoosting's against fit time, one point per dataset and model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # One point per table and model: the mean over seeds.
    ok = frame[frame["error"].isna()].groupby(["half", "dataset", "model"], as_index=False)[
        ["score", "fit_s"]].mean()
    key = ["half", "dataset"]
    hgb = ok[ok["model"] == "hgb"].set_index(key)["score"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for model in [m for m in LABELS if m in set(ok["model"])]:
        rows = ok[ok["model"] == model].set_index(key)
        rows = rows[rows.index.isin(hgb.index)]
        gap = rows["score"] - hgb.loc[rows.index]
        ax.scatter(rows["fit_s"], gap, label=LABELS[model], alpha=0.75, s=22)
        ax.scatter([rows["fit_s"].median()], [gap.mean()], marker="*", s=220,
                   edgecolor="black", color=ax.collections[-1].get_facecolor()[0])
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("fit time (s, log scale)")
    ax.set_ylabel("test score minus HistGradientBoosting's")
    ax.set_title("Real tables: score against fit time (stars: mean gap, median time)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--plot", default=None, help="write the picture to this file")
    parser.add_argument("--rst", action="store_true", help="a reStructuredText table")
    args = parser.parse_args(argv)
    frame = load(args.paths)
    if args.plot:
        plot(frame, args.plot)
    elif args.ablation:
        print(ablation_rst(frame) if args.rst else ablation(frame))
    elif args.rst:
        print(rst_table(frame))
    else:
        print(comparison(frame))


if __name__ == "__main__":
    main()

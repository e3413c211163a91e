"""Render tabular benchmark runs: comparison table, ablation table, picture.

Reads the JSONL files that ``tabular.py`` writes and prints Markdown::

    python benchmarks/tabular_report.py benchmarks/results/tabular-report.jsonl
    python benchmarks/tabular_report.py --ablation benchmarks/results/tabular-tune-ablation.jsonl
    python benchmarks/tabular_report.py --plot benchmarks/results/tabular.png \\
        benchmarks/results/tabular-tune.jsonl benchmarks/results/tabular-report.jsonl

The comparison counts, per model, the datasets where ``tabular`` matches or
beats it, and gives ``tabular``'s fit time as a fraction of each model's on
the datasets both fit. The ablation gives, per switched-off ingredient (or
switched-on option), the mean change of the test score against the defaults
on the same splits.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

LABELS = {
    "tabular": "TabularMLP*",
    "hgb": "HistGradientBoosting*",
    "sklearn_mlp": "sklearn MLP pipeline",
    "skdeep_mlp": "skdeep MLP pipeline",
    "realmlp": "RealMLP-TD",
}


def load(paths):
    """Every record of the JSONL files, as one frame (a column ``half`` from the name)."""
    frames = []
    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
        frame = pd.DataFrame(rows)
        frame["half"] = Path(path).stem.removeprefix("tabular-").split("-")[0]
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    if "error" not in frame:
        frame["error"] = np.nan
    return frame[frame["error"] != "not applicable"]


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
    lines += ["", "| against | datasets both fit | mean TabularMLP* | mean other "
              "| TabularMLP* matches or beats | fit time TabularMLP* / other (max, median) |",
              "|---|---:|---:|---:|---:|---|"]
    for model in models[1:]:
        both = scores[["tabular", model]].dropna()
        ratio = (times.loc[both.index, "tabular"] / times.loc[both.index, model])
        lines.append(
            f"| {LABELS[model]} | {len(both)} | {both['tabular'].mean():.4f} "
            f"| {both[model].mean():.4f} | {(both['tabular'] >= both[model]).sum()} of "
            f"{len(both)} | {ratio.max():.2f}, {ratio.median():.2f} |")
    return "\n".join(lines) + "\n"


def ablation(frame):
    """Markdown: per variant, the mean change of the score against the defaults.

    Fit times are left out: an ablation runs long enough that the load of a
    shared machine changes under it.
    """
    ok = frame[frame["error"].isna()]
    scores = ok.pivot_table(index="dataset", columns="model", values="score")
    variants = [m for m in dict.fromkeys(frame["model"]) if m.startswith("tabular-")]
    lines = ["| variant | datasets | mean change of test score | worse on | worst change |",
             "|---|---:|---:|---:|---:|"]
    for variant in variants:
        both = scores[["tabular", variant]].dropna()
        change = both[variant] - both["tabular"]
        lines.append(
            f"| {variant.removeprefix('tabular-')} | {len(both)} | {change.mean():+.4f} "
            f"| {(change < 0).sum()} of {len(both)} | {change.min():+.4f} |")
    return "\n".join(lines) + "\n"


def plot(frame, path):
    """Score minus HistGradientBoosting's against fit time, one point per dataset and model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = frame[frame["error"].isna()]
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
    args = parser.parse_args(argv)
    frame = load(args.paths)
    if args.plot:
        plot(frame, args.plot)
    elif args.ablation:
        print(ablation(frame))
    else:
        print(comparison(frame))


if __name__ == "__main__":
    main()

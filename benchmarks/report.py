"""Aggregate benchmark runs into medians, ratios, Markdown, JSON and a chart.

All functions work on plain data (lists of run dicts as produced by
``run.py``), so a saved ``latest.json`` (or ``threads.json``, ...) can be
re-rendered with::

    python benchmarks/report.py benchmarks/results/latest.json

The Markdown and the chart are written next to the JSON, under its name.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

PEER_ORDER = ("skdeep", "sklearn", "torch", "gemm_floor")
PEER_LABELS = {"skdeep": "skdeep", "sklearn": "sklearn", "torch": "PyTorch",
               "gemm_floor": "GEMM floor"}
MEDIAN_FIELDS = ("sec_per_epoch", "cpu_sec_per_epoch", "samples_per_sec", "us_per_call",
                 "peak_mem_mb", "final_loss", "score", "epochs", "nfev",
                 "fit_seconds")
RATIO_PEERS = ("sklearn", "torch", "gemm_floor")
BOTH = "both"  # a run measuring one thread and the default, job by job
SETTINGS_OF_BOTH = ("default", "1")  # report order: what users get first


# --------------------------------------------------------------------------
# aggregation
# --------------------------------------------------------------------------
def _median(values):
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return statistics.median(values) if values else None


def summarize(runs: list[dict]) -> list[dict]:
    """Median of every metric per (workload, dtype, peer) over repeats."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["workload"], run["dtype"], run["peer"]), []).append(run)
    rows = []
    for (wl, dtype, peer), group in groups.items():
        ok = [r["metrics"] for r in group if r.get("ok")]
        row = dict(workload=wl, dtype=dtype, peer=peer, repeats=len(ok),
                   errors=[r["error"] for r in group if not r.get("ok")])
        for field in MEDIAN_FIELDS:
            row[field] = _median([m.get(field) for m in ok])
        row["score_name"] = ok[0].get("score_name") if ok else None
        row["latency"] = bool(ok) and ok[0].get("us_per_call") is not None
        if peer in ("skdeep", "sklearn") and row["nfev"] is not None:
            row["evals_per_iter"] = _median(
                [m["nfev"] / m["nit"] for m in ok if m.get("nfev") and m.get("nit")])
        rows.append(row)
    return rows


def time_metric(row: dict, field: str = "sec_per_epoch"):
    """The time a ratio compares: µs per call (latency) or ``field``.

    With ``field="cpu_sec_per_epoch"`` latency rows have no value (their CPU
    time is not measured).
    """
    if row.get("latency"):
        return row["us_per_call"] if field == "sec_per_epoch" else None
    return row.get(field)


def compute_ratios(summary: list[dict], lbfgs_workloads=(),
                   field: str = "sec_per_epoch") -> list[dict]:
    """skdeep time divided by each peer's time, per workload and dtype.

    ``field`` selects wall time (``"sec_per_epoch"``, the default) or process
    CPU time (``"cpu_sec_per_epoch"``).  For L-BFGS workloads the GEMM floor
    is measured per function evaluation; it is scaled by skdeep's own
    evaluations per iteration (nfev / n_iter, 1 when unknown) so that both
    sides are "per iteration".
    """
    index = {(r["workload"], r["dtype"], r["peer"]): r for r in summary}
    out = []
    for (wl, dtype, peer), row in index.items():
        if peer != "skdeep" or time_metric(row, field) is None:
            continue
        entry = dict(workload=wl, dtype=dtype, skdeep_time=time_metric(row, field),
                     unit="us/call" if row["latency"] else "s/epoch")
        for other in RATIO_PEERS:
            ref = index.get((wl, dtype, other))
            ref_time = time_metric(ref, field) if ref else None
            if ref_time and other == "gemm_floor" and wl in lbfgs_workloads:
                ref_time *= row.get("evals_per_iter") or 1.0
            entry[other] = entry["skdeep_time"] / ref_time if ref_time else None
        out.append(entry)
    return out


# --------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------
def _fmt(value, spec="{:.3g}", missing="–"):
    return missing if value is None else spec.format(value)


def _fmt_time(row: dict) -> str:
    if row.get("latency"):
        return _fmt(row["us_per_call"], "{:.1f} µs/call")
    t = row["sec_per_epoch"]
    if t is None:
        return "–"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def _fmt_ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}×"


def ratio_table(ratios: list[dict], speedups: list[dict] | None = None) -> str:
    """Markdown table of skdeep's time relative to each peer.

    With ``speedups`` (from :func:`thread_speedups`), two more columns show
    how much faster skdeep and the GEMM floor ran with the libraries' default
    threads than with one thread, per workload and dtype.
    """
    by_key = {(s["workload"], s["dtype"]): s for s in speedups or ()}
    head = ("| workload | dtype | skdeep time | skdeep / sklearn | skdeep / PyTorch "
            "| skdeep / GEMM floor |")
    rule = "|---|---|---:|---:|---:|---:|"
    if speedups is not None:
        head += " skdeep speed-up, default / 1 thread | GEMM floor speed-up, default / 1 thread |"
        rule += "---:|---:|"
    lines = [head, rule]
    for r in ratios:
        t = (f"{r['skdeep_time']:.1f} µs/call" if r["unit"] == "us/call"
             else _fmt_time({"sec_per_epoch": r["skdeep_time"]}) + "/epoch")
        line = (f"| {r['workload']} | {r['dtype']} | {t} | "
                f"{_fmt_ratio(r['sklearn'])} | {_fmt_ratio(r['torch'])} | "
                f"{_fmt_ratio(r['gemm_floor'])} |")
        if speedups is not None:
            s = by_key.get((r["workload"], r["dtype"]), {})
            line += (f" {_fmt_ratio(s.get('skdeep'))} | "
                     f"{_fmt_ratio(s.get('gemm_floor'))} |")
        lines.append(line)
    return "\n".join(lines)


def thread_speedups(one_thread: list[dict], default: list[dict]) -> list[dict]:
    """One-thread time / default-thread time of skdeep and the GEMM floor.

    Parameters
    ----------
    one_thread, default : list of dict
        :func:`summarize` rows of the two thread settings of one run.

    Returns
    -------
    list of dict
        Per (workload, dtype) of ``default``: ``skdeep`` and ``gemm_floor``
        speed-ups (> 1: default threads are faster), ``None`` where either
        time is missing.
    """
    ones = {(r["workload"], r["dtype"], r["peer"]): r for r in one_thread}
    out = {}
    for row in default:
        if row["peer"] not in ("skdeep", "gemm_floor"):
            continue
        key = (row["workload"], row["dtype"])
        entry = out.setdefault(key, {"workload": key[0], "dtype": key[1],
                                     "skdeep": None, "gemm_floor": None})
        ref = ones.get((*key, row["peer"]))
        t_default, t_one = time_metric(row), time_metric(ref) if ref else None
        if t_default and t_one:
            entry[row["peer"]] = t_one / t_default
    return list(out.values())


def raw_table(summary: list[dict]) -> str:
    """Markdown table of the raw medians of every (workload, dtype, peer)."""
    lines = [
        "| workload | dtype | peer | time / epoch (or call) | CPU time / epoch "
        "| samples/s | peak mem (MB) | final train loss | held-out score "
        "| epochs | runs |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary:
        if row["repeats"] == 0:
            cells = ["error: " + (row["errors"][0] if row["errors"] else "?")[:60]]
            cells += [""] * 7
        else:
            score = (f"{row['score_name']} {row['score']:.4f}"
                     if row["score"] is not None else "n/a")
            sps = (1e6 / row["us_per_call"] if row["latency"]
                   else row["samples_per_sec"])
            cpu = ("–" if row["latency"]
                   else _fmt_time({"sec_per_epoch": row["cpu_sec_per_epoch"]}))
            cells = [_fmt_time(row), cpu, _fmt(sps, "{:,.0f}"),
                     _fmt(row["peak_mem_mb"], "{:.1f}"),
                     _fmt(row["final_loss"], "{:.4g}", "n/a"), score,
                     _fmt(row["epochs"], "{:.0f}", "n/a" if row["latency"] else "–"),
                     str(row["repeats"])]
        lines.append(f"| {row['workload']} | {row['dtype']} | "
                     f"{PEER_LABELS.get(row['peer'], row['peer'])} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def _sort_key(workload_order, dtype_order):
    def key(row):
        return (workload_order.index(row["workload"]) if row["workload"] in workload_order else 99,
                dtype_order.index(row["dtype"]) if row["dtype"] in dtype_order else 99,
                PEER_ORDER.index(row["peer"]) if row.get("peer") in PEER_ORDER else 0)
    return key


def threads_label(meta: dict) -> str:
    """Short thread setting of a run: "1 thread(s)" or "library-default threads"."""
    if meta["threads"] == "default":
        return "library-default threads"
    if meta["threads"] == BOTH:
        return "library-default threads and 1 thread"
    return f"{meta['threads']} thread(s)"


def threads_phrase(meta: dict) -> str:
    """How the run set the thread counts, for the report header."""
    torch_threads = meta.get("env", {}).get("torch_threads")
    torch = f", PyTorch {torch_threads} thread(s)" if torch_threads else ""
    if meta["threads"] == BOTH:
        return ("**library-default threads and one thread**, alternating job by job "
                "(default: no threadpoolctl limit, no thread environment "
                f"variables{torch}, BLAS pools as listed; one thread: every BLAS/OpenMP "
                "pool and PyTorch pinned to 1)")
    if meta["threads"] != "default":
        return f"{meta['threads']} BLAS/torch thread(s)"
    return ("**library-default threads** (no threadpoolctl limit, no thread "
            f"environment variables{torch}; BLAS pools as listed)")


def load_phrase(meta: dict) -> str | None:
    """Load averages at the start and end of the run (``None`` if not recorded)."""
    loads = meta.get("load_averages") or {}
    if not loads.get("start"):
        return None

    def fmt(triple):
        return "/".join(f"{v:.2f}" for v in triple)

    text = f"Load average (1/5/15 min): {fmt(loads['start'])} at the start"
    if loads.get("end"):
        text += f", {fmt(loads['end'])} at the end"
    return text + f" of the run ({meta['machine']['cores']} cores)."


def header_lines(meta: dict) -> list[str]:
    """Date, machine, BLAS, thread setting, versions, command and load of a run."""
    env = meta.get("env", {})
    blas = ", ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, "
        f"{b.get('num_threads')} thread(s))"
        for b in env.get("threadpool_info", []) if b.get("user_api") == "blas")
    return [
        f"Run {meta['date']} on {meta['machine']['cpu_model']} "
        f"({meta['machine']['cores']} cores), BLAS: {blas or 'unknown'}; "
        f"{threads_phrase(meta)}, median of {meta['repeats']} "
        f"repeat(s), each fit in a fresh process"
        + (", warm-up fit first" if meta.get("warmup", True) else ", cold start")
        + (". **QUICK smoke run: shrunken workloads, numbers not representative.**"
           if meta.get("quick") else "."),
        f"Versions: skdeep {env.get('skdeep')}, scikit-learn {env.get('sklearn')}, "
        f"PyTorch {env.get('torch') or 'not installed'}, NumPy {env.get('numpy')}, "
        f"Python {env.get('python')}.",
        f"Command: `{meta['command']}`" + (f" ({meta['wall_seconds']:.0f} s)."
                                           if meta.get("wall_seconds") else "."),
        *([load_phrase(meta)] if load_phrase(meta) else []),
        "",
    ]


def notes_lines(meta: dict) -> list[str]:
    """The run's notes as a Markdown list (nothing when there are none)."""
    notes = list(meta.get("notes", []))
    return ["Notes:", ""] + [f"- {n}" for n in notes] + [""] if notes else []


def cpu_lines(meta: dict, cpu_ratios: list[dict]) -> list[str]:
    """The CPU-time ratio table with its reading guide (nothing when empty)."""
    if not cpu_ratios:
        return []
    return ["### The same ratios from process CPU time", "", _cpu_table_intro(meta), "",
            ratio_table(cpu_ratios).replace("skdeep time", "skdeep CPU time"), ""]


def predict_memory_lines(meta: dict) -> list[str]:
    """The section on the memory of a large predict, when the run measured it."""
    memory = meta.get("predict_memory")
    if not memory:
        return []
    return ["### Memory of a large predict (`predict_memory.py`)", "",
            memory["markdown"].rstrip("\n"), ""]


def render_markdown(meta: dict, ratios: list[dict], summary: list[dict],
                    cpu_ratios: list[dict] = ()) -> str:
    """The full Markdown report (ratios, notes, raw medians, environment)."""
    parts = [
        *header_lines(meta),
        "### Speed of skdeep relative to each peer (time per epoch; < 1 means skdeep is faster)",
        "",
        ratio_table(ratios),
        "",
        *notes_lines(meta),
        *cpu_lines(meta, cpu_ratios),
        *predict_memory_lines(meta),
        "### Raw medians", "", raw_table(summary), "",
    ]
    return "\n".join(parts)


def render_both_markdown(meta: dict, analyses: dict, speedups: list[dict]) -> str:
    """The report of a run with both thread settings: default threads first.

    Parameters
    ----------
    meta : dict
        Run metadata; ``meta["threads"]`` is ``"both"``.
    analyses : dict
        :func:`analyse` output per setting, keyed ``"default"`` and ``"1"``.
    speedups : list of dict
        :func:`thread_speedups` of the two settings.
    """
    default, one = analyses["default"], analyses["1"]
    parts = [
        *header_lines(meta),
        ("### Default threads (what users get): skdeep relative to each peer "
         "(time per epoch; < 1 means skdeep is faster)"),
        "",
        ("The last two columns divide the one-thread time by the default-thread "
         "time of the same run (> 1: the default threads are faster)."),
        "",
        ratio_table(default["ratios"], speedups),
        "",
        "### One thread: skdeep relative to each peer",
        "",
        ratio_table(one["ratios"]),
        "",
        *notes_lines(meta),
        *cpu_lines({**meta, "threads": 1}, one["ratios_cpu"]),
        *predict_memory_lines(meta),
        "### Raw medians, default threads", "", raw_table(default["summary"]), "",
        "### Raw medians, one thread", "", raw_table(one["summary"]), "",
    ]
    return "\n".join(parts)


def _cpu_table_intro(meta: dict) -> str:
    """How to read the CPU-time table for this run's thread setting."""
    if meta["threads"] == 1:
        return ("Process CPU time is much less affected than wall time by other "
                "programs sharing the cores; for one-thread runs on a busy machine "
                "this table is the more reliable one (latency rows have no CPU "
                "time).")
    return ("Process CPU time sums every thread of the process, including BLAS "
            "threads spinning while they wait for work: with several threads it "
            "measures the total CPU cost of a fit, not its speed (latency rows "
            "have no CPU time).")


def plot_ratios(ratios: list[dict], path: Path, title: str) -> None:
    """Grouped log-scale bar chart of the skdeep/peer time ratios."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['workload']}\n{r['dtype']}" for r in ratios]
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(labels) + 2), 5))
    width = 0.8 / len(RATIO_PEERS)
    colors = {"sklearn": "#4C72B0", "torch": "#DD8452", "gemm_floor": "#55A868"}
    for k, peer in enumerate(RATIO_PEERS):
        xs = [i + (k - 1) * width for i in range(len(ratios))]
        vals = [r[peer] if r[peer] else float("nan") for r in ratios]
        bars = ax.bar(xs, vals, width, label=f"skdeep / {PEER_LABELS[peer]}",
                      color=colors[peer])
        for bar, v in zip(bars, vals):
            if math.isfinite(v):
                ax.annotate(f"{v:.2g}", (bar.get_x() + bar.get_width() / 2, v),
                            ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylabel("time ratio (log scale; < 1: skdeep faster)")
    ax.set_xticks(range(len(ratios)), labels, fontsize=8)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def output_paths(out_dir: Path, stem: str = "latest") -> dict:
    """Paths of the JSON, Markdown and chart files of a report named ``stem``.

    ``latest`` (the run with both thread settings) keeps the historical chart
    name ``ratios.png`` for its default-thread ratios and adds
    ``ratios-1-thread.png``; other stems get ``<stem>-ratios.png``.
    """
    out_dir = Path(out_dir)
    paths = dict(json=out_dir / f"{stem}.json", md=out_dir / f"{stem}.md")
    if stem == "latest":
        paths.update(chart=out_dir / "ratios.png", chart_1=out_dir / "ratios-1-thread.png")
    else:
        paths["chart"] = out_dir / f"{stem}-ratios.png"
    return paths


def setting_key(threads) -> str:
    """JSON key of a thread setting: ``"1"``, ``"2"``, ... or ``"default"``."""
    return str(threads)


def split_runs(runs: list[dict], threads) -> dict:
    """Run records grouped by their thread setting (:func:`setting_key`).

    Records without a ``threads`` field (runs saved before both settings
    could share a run) belong to ``threads``, the run's setting.
    """
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(setting_key(run.get("threads", threads)), []).append(run)
    return groups


def analyse(meta: dict, runs: list[dict]) -> dict:
    """Sorted medians, wall-time ratios and CPU-time ratios of ``runs``."""
    order = _sort_key(meta.get("workloads", []), meta.get("dtypes", []))
    summary = sorted(summarize(runs), key=order)
    lbfgs = meta.get("lbfgs_workloads", ())
    return {"summary": summary,
            "ratios": sorted(compute_ratios(summary, lbfgs), key=order),
            "ratios_cpu": sorted(compute_ratios(summary, lbfgs, "cpu_sec_per_epoch"),
                                 key=order)}


def write_outputs(meta: dict, runs: list[dict], out_dir: Path,
                  stem: str = "latest") -> str:
    """Summarise ``runs`` and write the report files named ``stem``.

    Parameters
    ----------
    meta : dict
        Run metadata (see ``run.py``).
    runs : list of dict
        One record per measurement.
    out_dir : Path
        Output folder, created if needed.
    stem : str, default="latest"
        Base name of the files, see :func:`output_paths`.

    Returns
    -------
    str
        The Markdown report.
    """
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    if meta["threads"] == BOTH:
        return _write_both(meta, runs, output_paths(out_dir, stem))
    paths = output_paths(out_dir, stem)
    result = analyse(meta, runs)
    markdown = render_markdown(meta, result["ratios"], result["summary"],
                               result["ratios_cpu"])
    paths["json"].write_text(json.dumps(dict(meta=meta, **result, runs=runs), indent=1))
    paths["md"].write_text(markdown)
    if result["ratios"]:
        plot_ratios(result["ratios"], paths["chart"],
                    f"skdeep time / peer time ({threads_label(meta)}, {meta['date']})")
    return markdown


def _write_both(meta: dict, runs: list[dict], paths: dict) -> str:
    """:func:`write_outputs` for a run holding both thread settings."""
    groups = split_runs(runs, BOTH)
    analyses = {key: analyse(meta, groups.get(key, [])) for key in SETTINGS_OF_BOTH}
    speedups = thread_speedups(analyses["1"]["summary"], analyses["default"]["summary"])
    markdown = render_both_markdown(meta, analyses, speedups)
    paths["json"].write_text(json.dumps(
        {"meta": meta, "settings": analyses, "speedups": speedups, "runs": runs}, indent=1))
    paths["md"].write_text(markdown)
    charts = (("chart", "default", "library-default threads"), ("chart_1", "1", "1 thread"))
    for path_key, key, label in charts:
        if analyses[key]["ratios"] and path_key in paths:
            plot_ratios(analyses[key]["ratios"], paths[path_key],
                        f"skdeep time / peer time ({label}, {meta['date']})")
    return markdown


def main(argv=None) -> int:
    """Re-render the report from a saved JSON file."""
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0] if argv else Path(__file__).parent / "results" / "latest.json")
    saved = json.loads(path.read_text())
    print(write_outputs(saved["meta"], saved["runs"], path.parent, path.stem))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark harness: thread settings, the two-setting report, predict memory.

Everything here is fast: synthetic run records, tiny data, and fresh-process
runs with scikit-learn's classes standing in for skdeep's
(``--impl-skdeep-fallback``) where only the harness is under test.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import predict_memory, report, run

REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------
# thread settings on the command line
# --------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected, stem", [
    (None, "both", "latest"),
    ("both", "both", "latest"),
    ("1", 1, "threads-1"),
    ("default", "default", "threads"),
    ("3", 3, "threads-3"),
])
def test_threads_option_and_report_names(text, expected, stem):
    args = run.parse_args([] if text is None else ["--threads", text])
    assert args.threads == expected
    assert run.report_stem(args.threads) == stem


@pytest.mark.parametrize("text", ["0", "-2", "many"])
def test_threads_option_rejects_other_values(text):
    with pytest.raises(SystemExit):
        run.parse_args(["--threads", text])


def test_thread_settings_put_the_default_first():
    assert run.thread_settings("both") == ["default", 1]
    assert run.thread_settings(1) == [1]
    assert run.thread_settings("default") == ["default"]


def test_predict_memory_is_a_workload_with_quick_and_full_row_counts():
    assert run.PREDICT_MEMORY in run.ALL_WORKLOADS
    assert run.parse_args([]).predict_memory_rows == 5_000_000
    assert run.parse_args(["--quick"]).predict_memory_rows == 200_000
    assert run.parse_args(["--predict-memory-rows", "1234"]).predict_memory_rows == 1234
    assert run.predict_memory_threads("both") == "default"
    assert run.predict_memory_threads(1) == 1


def _jobs(*argv):
    args = run.parse_args(["--workloads", "clf-small,reg-deep,predict-memory",
                           "--dtypes", "float64,float32", "--repeats", "2", *argv])
    return run.build_jobs(args, ["skdeep", "sklearn", "gemm_floor"])


def test_both_settings_run_every_measurement_back_to_back():
    jobs = _jobs()
    assert len(jobs) == 2 * 2 * 2 * 3 * 2  # repeats, workloads, dtypes, peers, settings
    assert {j["workload"] for j in jobs} == {"clf-small", "reg-deep"}
    pairs = [jobs[i:i + 2] for i in range(0, len(jobs), 2)]
    for a, b in pairs:
        assert {k: a[k] for k in a if k != "threads"} == {k: b[k] for k in b if k != "threads"}
        assert {a["threads"], b["threads"]} == {"default", 1}
    # Which setting goes first alternates, so neither always runs first.
    firsts = [a["threads"] for a, _ in pairs]
    assert firsts[:4] == ["default", 1, "default", 1]
    assert firsts.count(1) == firsts.count("default")


def test_a_single_setting_runs_each_measurement_once():
    jobs = _jobs("--threads", "1")
    assert len(jobs) == 2 * 2 * 2 * 3
    assert {j["threads"] for j in jobs} == {1}


# --------------------------------------------------------------------------
# the report of both settings
# --------------------------------------------------------------------------
def _run(workload, peer, threads, seconds, repeat=0):
    metrics = {"sec_per_epoch": seconds, "cpu_sec_per_epoch": seconds,
               "samples_per_sec": 1.0, "peak_mem_mb": 1.0, "final_loss": 0.5, "score": 0.9,
               "score_name": "accuracy", "epochs": 5, "fit_seconds": 5 * seconds}
    return {"workload": workload, "dtype": "float64", "peer": peer, "repeat": repeat,
            "threads": threads, "ok": True, "metrics": metrics}


# seconds per epoch: (one thread, default threads)
TIMES = {"skdeep": (3.0, 2.0), "sklearn": (6.0, 5.0), "gemm_floor": (2.0, 1.0)}


def _both_runs():
    return [_run("clf-wide", peer, threads, times[k])
            for peer, times in TIMES.items() for k, threads in enumerate((1, "default"))]


def _meta(threads="both"):
    return {"date": "2026-12-02", "command": "python benchmarks/run.py", "threads": threads,
            "machine": {"cpu_model": "test CPU", "cores": 2}, "env": {}, "repeats": 1,
            "workloads": ["clf-wide"], "dtypes": ["float64"], "lbfgs_workloads": [],
            "notes": ["a note"]}


def test_split_runs_groups_by_setting_and_keeps_old_records():
    runs = _both_runs()
    old = dict(_run("clf-wide", "skdeep", 1, 1.0))
    del old["threads"]  # saved before runs had two settings
    groups = report.split_runs(runs + [old], 1)
    assert sorted(groups) == ["1", "default"]
    assert len(groups["1"]) == 4 and len(groups["default"]) == 3


def test_thread_speedups_divide_one_thread_by_default_time():
    groups = report.split_runs(_both_runs(), "both")
    speedups = report.thread_speedups(report.summarize(groups["1"]),
                                      report.summarize(groups["default"]))
    assert speedups == [{"workload": "clf-wide", "dtype": "float64",
                         "skdeep": pytest.approx(1.5), "gemm_floor": pytest.approx(2.0)}]


def test_thread_speedups_are_missing_without_the_other_setting():
    groups = report.split_runs(_both_runs(), "both")
    one = [r for r in report.summarize(groups["1"]) if r["peer"] != "gemm_floor"]
    (entry,) = report.thread_speedups(one, report.summarize(groups["default"]))
    assert entry["gemm_floor"] is None and entry["skdeep"] == pytest.approx(1.5)


def test_both_report_shows_default_threads_first(tmp_path):
    markdown = report.write_outputs(_meta(), _both_runs(), tmp_path)
    default_at = markdown.index("### Default threads")
    one_at = markdown.index("### One thread")
    assert default_at < one_at < markdown.index("### Raw medians, default threads")
    default_table = markdown[default_at:one_at]
    # skdeep / sklearn 2/5, skdeep / floor 2/1, speed-ups 3/2 and 2/1
    assert "| clf-wide | float64 | 2.00 s/epoch | 0.40× | – | 2.00× | 1.50× | 2.00× |" \
        in default_table
    one_table = markdown[one_at:markdown.index("Notes:")]
    assert "| clf-wide | float64 | 3.00 s/epoch | 0.50× | – | 1.50× |" in one_table
    assert "speed-up" not in one_table
    saved = json.loads((tmp_path / "latest.json").read_text())
    assert sorted(saved["settings"]) == ["1", "default"]
    assert saved["settings"]["default"]["ratios"][0]["sklearn"] == pytest.approx(0.4)
    assert saved["speedups"][0]["gemm_floor"] == pytest.approx(2.0)
    assert (tmp_path / "latest.md").read_text() == markdown
    assert (tmp_path / "ratios.png").exists() and (tmp_path / "ratios-1-thread.png").exists()


def test_saved_both_report_renders_again_the_same(tmp_path):
    first = report.write_outputs(_meta(), _both_runs(), tmp_path)
    assert report.main([str(tmp_path / "latest.json")]) == 0
    assert (tmp_path / "latest.md").read_text() == first


def test_single_setting_report_keeps_its_own_files(tmp_path):
    runs = [r for r in _both_runs() if r["threads"] == 1]
    markdown = report.write_outputs(_meta(1), runs, tmp_path, run.report_stem(1))
    assert "| clf-wide | float64 | 3.00 s/epoch | 0.50× | – | 1.50× |" in markdown
    assert "speed-up" not in markdown
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "threads-1-ratios.png", "threads-1.json", "threads-1.md"]


def test_predict_memory_section_goes_into_the_report(tmp_path):
    meta = dict(_meta(), predict_memory={"markdown": "peak 0.5 GB above the input\n"})
    markdown = report.write_outputs(meta, _both_runs(), tmp_path)
    section = markdown.index("### Memory of a large predict")
    assert markdown.index("### One thread") < section < markdown.index("### Raw medians")
    assert "peak 0.5 GB above the input" in markdown[section:]


# --------------------------------------------------------------------------
# predict memory
# --------------------------------------------------------------------------
def test_unchunked_need_is_two_widest_layers_of_float64():
    assert predict_memory.unchunked_need_bytes(5_000_000) == 5_000_000 * 512 * 8 * 2
    assert predict_memory.unchunked_need_bytes(10, widths=(3, 7), itemsize=4) == 10 * 7 * 4 * 2


@pytest.mark.parametrize("rows, max_gb, expected", [
    (200_000, 8.0, 200_000),      # 1.6 GB: every row
    (5_000_000, 8.0, 900_000),    # 41 GB: the largest multiple of 100,000 within 8 GB
    (5_000_000, 0.5, 0),          # not even 100,000 rows fit
])
def test_sklearn_rows_stay_within_the_budget(rows, max_gb, expected):
    n = predict_memory.sklearn_rows(rows, max_gb)
    assert n == expected
    assert predict_memory.unchunked_need_bytes(n) <= max_gb * 1e9


class _RecordingModel:
    """Stands in for an estimator: records the working_memory of every call."""

    def __init__(self):
        self.calls = []

    def predict_proba(self, X):
        from sklearn import get_config

        self.calls.append(get_config()["working_memory"])
        return X


def test_throughput_settings_are_interleaved_in_a_rotating_order():
    import numpy as np

    model = _RecordingModel()
    settings = {"default": 1024, "64 MiB": 64, "unchunked": 2**40}
    rates = predict_memory.throughput(model, np.zeros((10, 2)), settings, repeats=4)
    assert sorted(rates) == sorted(settings) and all(r > 0 for r in rates.values())
    # Every timed call follows an untimed call of the same setting.
    pairs = [model.calls[i:i + 2] for i in range(0, len(model.calls), 2)]
    assert len(pairs) == 4 * 3 and all(a == b for a, b in pairs)
    rounds = [[a for a, _ in pairs[i:i + 3]] for i in range(0, len(pairs), 3)]
    assert all(sorted(r) == sorted(settings.values()) for r in rounds)
    assert [r[0] for r in rounds] == [1024, 64, 2**40, 1024]


def _measure_predict_memory(tmp_path, *argv):
    cmd = [sys.executable, str(REPO / "benchmarks" / "predict_memory.py"), "--rows", "3000",
           "--fit-rows", "600", "--throughput-rows", "1000", "--repeats", "1",
           "--threads", "1", "--out-dir", str(tmp_path), *argv]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp_path / "predict-memory.json").read_text())


def test_predict_memory_measures_skdeep_and_sklearn(tmp_path):
    saved = _measure_predict_memory(tmp_path)
    result = saved["result"]
    sk, ref = result["skdeep"], result["sklearn"]
    assert result["input_bytes"] == 3000 * 100 * 8
    assert sk["rows"] == ref["rows"] == 3000
    assert sk["output_bytes"] == 3000 * 10 * 8
    # The returned probabilities are allocated inside the traced call.
    assert sk["peak_traced_bytes"] >= sk["output_bytes"]
    # 8 bytes x (512 + 512) per row in half of 1024 MiB (the other half is
    # left for the output); 64 MiB gives 4,096 rows.
    assert sk["chunk_rows"]["default"] == 65_536
    assert sk["chunk_rows"]["64 MiB"] == 4_096
    assert sorted(sk["rows_per_sec_at"]) == ["64 MiB", "default", "unchunked"]
    assert sorted(ref["rows_per_sec_at"]) == ["default"] and ref["chunk_rows"] == {}
    markdown = (tmp_path / "predict-memory.md").read_text()
    assert "| skdeep | 3,000 |" in markdown and "| scikit-learn | 3,000 |" in markdown
    assert "measured on the same 3,000 rows" in markdown
    assert saved["meta"]["threads"] == "1"


def test_predict_memory_says_when_sklearn_is_skipped(tmp_path):
    saved = _measure_predict_memory(tmp_path, "--sklearn-max-gb", "0.0001",
                                    "--impl-skdeep-fallback")
    assert saved["result"]["sklearn"] is None
    markdown = (tmp_path / "predict-memory.md").read_text()
    assert "scikit-learn not measured" in markdown and "FALLBACK RUN" in markdown


def test_sklearn_note_names_the_rows_it_measured():
    result = {"rows": 5_000_000, "sklearn_max_gb": 8.0,
              "sklearn_need_all_rows_bytes": predict_memory.unchunked_need_bytes(5_000_000),
              "sklearn": {"rows": 900_000}}
    note = predict_memory.sklearn_note(result)
    assert "40.96 GB" in note and "first 900,000 rows" in note


# --------------------------------------------------------------------------
# one whole run, both settings, in fresh processes
# --------------------------------------------------------------------------
def test_quick_run_with_both_settings_writes_one_report(tmp_path):
    status = run.main(["--quick", "--cold", "--workloads", "clf-small", "--dtypes", "float32",
                       "--repeats", "1", "--peers", "skdeep,gemm_floor",
                       "--impl-skdeep-fallback", "--out-dir", str(tmp_path)])
    assert status == 0
    saved = json.loads((tmp_path / "latest.json").read_text())
    assert sorted((str(r["threads"]), r["peer"]) for r in saved["runs"]) == [
        ("1", "gemm_floor"), ("1", "skdeep"), ("default", "gemm_floor"), ("default", "skdeep")]
    assert all(r["ok"] for r in saved["runs"])
    assert saved["speedups"][0]["skdeep"] > 0 and saved["speedups"][0]["gemm_floor"] > 0
    assert set(saved["meta"]["env"]["threadpool_info_by_threads"]) == {"1", "default"}
    markdown = (tmp_path / "latest.md").read_text()
    assert "FALLBACK RUN" in markdown
    assert markdown.index("### Default threads") < markdown.index("### One thread")


# --------------------------------------------------------------------------
# optimizer_floor.py: the share of Adam's update in an epoch
# --------------------------------------------------------------------------
def test_optimizer_floor_times_every_part_of_a_small_workload():
    from benchmarks import optimizer_floor
    from benchmarks.workloads import WORKLOADS

    row = optimizer_floor.measure(WORKLOADS["clf-tiny-batch"], "float64", 1, repeats=1)
    # 16,000 training rows in batches of 32; a 20-64-1 network.
    assert row["n_batches"] == 500
    assert row["n_params"] == 20 * 64 + 64 + 64 * 1 + 1
    assert row["threads"] == "1"
    assert all(row[part] > 0 for part in ("gemm", "adam", "skdeep"))


def test_optimizer_floor_table_derives_the_ratios_from_the_parts():
    from benchmarks import optimizer_floor

    row = {"workload": "w", "dtype": "float64", "threads": "default", "n_params": 1000,
           "n_batches": 10, "gemm": 0.2, "adam": 0.05, "skdeep": 0.4}
    line = optimizer_floor.markdown([row]).splitlines()[-1]
    assert "| 0.25 | 1.25× | 2.00× |" in line
    assert "| 1,000 | 10 | 200.0 ms | 50.0 ms | 400.0 ms |" in line


# --------------------------------------------------------------------------
# tabular_speed.py: other settings than the defaults
# --------------------------------------------------------------------------
def test_tabular_speed_variant_fits_only_the_current_package_differently():
    from benchmarks import tabular_speed

    spec = {"dataset": "spam7", "seed": 0, "threads": 1, "variant": "n2_e14"}
    assert tabular_speed.benchmark_model({**spec, "model": "tabular"}) == "tabular-n2_e14"
    assert tabular_speed.benchmark_model({**spec, "model": "baseline"}) == "tabular"
    assert tabular_speed.benchmark_model({**spec, "model": "hgb"}) == "hgb"
    assert tabular_speed.benchmark_model(
        {**spec, "model": "tabular", "variant": None}) == "tabular"


def test_tabular_speed_report_names_the_variant_and_rejects_unknown_ones(capsys):
    from benchmarks import tabular_speed

    records = [{"dataset": "spam7", "seed": 0, "threads": "default", "model": model,
                "fit_s": fit_s, "score": 0.9} for model, fit_s in
               (("hgb", 0.5), ("tabular", 2.0), ("baseline", 8.0))]
    meta = {"baseline": "d594d15", "date": "2026-12-06 00:00", "machine": "2 cores",
            "load_before": "0.1", "load_after": "0.2", "variant": "n2_e14 ({'n_networks': 2})"}
    text = tabular_speed.report(records, meta)
    assert "TabularMLP* with n2_e14 ({'n_networks': 2}), not its defaults." in text
    assert "median 4.0, largest 4.0" in text and "median 4.00" in text
    assert "not its defaults" not in tabular_speed.report(records, {**meta, "variant": None})
    with pytest.raises(SystemExit):
        tabular_speed.main(["--variant", "no_such_setting"])
    assert "no_such_setting" in capsys.readouterr().err

"""Sightline's scale benchmark: our computations against the field's tools, on the same data.

    python benchmarks/run.py --sizes 100k,1m          # everything, writes benchmarks/results.md
    python benchmarks/run.py --sizes 10m --query-only # the DuckDB query layer on a 10M-row log

For each size it generates the synthetic log if missing (benchmarks/synthetic.py), then times,
each measurement in a fresh worker process (so one measurement's memory does not inflate the
next, and each gets its own peak RSS):

- loading the audit (Parquet → pandas, validation, fingerprint);
- every registered area's Section via ``sightline.report.registry.compute_section(area, audit)``;
- assembling the model card and rendering its four formats (json, md, html, pdf);
- ``python -m sightline report`` end to end in a subprocess (wall time, CPU time, peak RSS of
  the child from ``resource.getrusage(RUSAGE_CHILDREN)``);
- Evidently 0.7's ``DataDriftPreset`` (20 features, current vs reference) and
  ``ClassificationPreset`` (labelled rows), and fairlearn's ``MetricFrame`` (5 scikit-learn
  metrics by the 5-group column), on the same rows our sections use;
- the DuckDB query layer (``sightline.data.query``) on the Parquet file: confusion counts by group
  and by week, drift histograms of all 20 features per week, latency quantiles per week, label
  coverage, a bounded sample.

Times are medians of ``--repeats`` runs (default 3 up to 1M rows, 1 above), with the first
run's time beside them. CPU seconds are reported too: the machine is shared, and wall time
under contention says more about the neighbours than about the code.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402 — benchmarks/ is put on the path just above

log = logging.getLogger("benchmark")
RESULTS = HERE / "results.md"
WORKER_TIMEOUT_S = 3600
SEED = 0


# ============================================================================ measuring
def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _timed(func, repeats: int) -> dict:
    """Run ``func`` ``repeats`` times: wall and CPU seconds of each run, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        c0, t0 = _cpu(), time.perf_counter()
        result = func()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return {"wall": walls, "cpu": cpus, "result": result}


def _summary(t: dict) -> dict:
    return {"wall": statistics.median(t["wall"]), "first": t["wall"][0], "cpu": statistics.median(t["cpu"]),
            "runs": len(t["wall"])}


# ============================================================================ workers
# Each worker runs in its own process and prints one JSON object on its last stdout line.
def _audit(label: str):
    from sightline.data.audit import load_audit
    from sightline.data.spec import load_spec

    return load_audit(load_spec(synthetic.DATA_DIR / f"audit_{label}.yaml"))


def worker_load(label: str, repeats: int) -> dict:
    """Loading: the bare Parquet read, and load_audit (read + validate + fingerprint + primary rows)."""
    import pandas as pd

    from sightline.data.scale import DEFAULT_MAX_ROWS

    path = synthetic.DATA_DIR / f"log_{label}.parquet"
    # Above scale.max_rows the audit never reads the log whole, so neither does the benchmark.
    read = _timed(lambda: pd.read_parquet(path), repeats) if synthetic.parse_size(label) <= DEFAULT_MAX_ROWS else None

    def load():
        audit = _audit(label)
        _ = audit.primary  # selecting the primary version's rows is part of getting ready
        return audit

    loaded = _timed(load, repeats)
    audit = loaded["result"]
    return {**({"parquet_read": _summary(read)} if read else {}), "load_audit": _summary(loaded), "rows": len(audit.current),
            "primary_rows": len(audit.primary), "peak_rss_mb": _peak_rss_mb(),
            **({"sampled": audit.log_sample.provenance()} if audit.log_sample else {})}


def worker_areas(label: str, repeats: int, areas: list[str] | None) -> dict:
    """Every registered area's Section on one loaded audit, then the model card's four formats."""
    from sightline.report.registry import AREAS, Report, compute_section

    audit = _audit(label)
    _ = audit.primary
    out: dict = {"areas": {}}
    sections = {}
    for area in areas or list(AREAS):
        t = _timed(lambda area=area: compute_section(area, audit), repeats)
        section = t["result"]
        sections[area] = section
        out["areas"][area] = {**_summary(t), "status": section.verdict.status,
                              "error": section.report.get("internal_error"),
                              "provenance": _small(section.provenance)}
    try:
        from sightline.card.export import write_card_files
    except ModuleNotFoundError:
        write_card_files = None
    if write_card_files is not None:
        report = Report(audit=audit, sections=sections)
        with tempfile.TemporaryDirectory() as tmp:
            t = _timed(lambda: write_card_files(report, tmp), 1)
        out["card"] = _summary(t)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _small(provenance: dict) -> dict:
    """The scalar entries of a provenance dict (sample sizes, methods), for the results file."""
    return {k: v for k, v in (provenance or {}).items() if isinstance(v, (int, float, str, bool)) and len(str(v)) < 80}


def worker_cli(label: str, repeats: int) -> dict:
    """``python -m sightline report`` end to end, in a child process; its peak RSS and CPU time."""
    audit = synthetic.DATA_DIR / f"audit_{label}.yaml"
    walls, cpus, codes = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            c0, t0 = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "sightline", "report", str(audit), "--out", tmp, "--quiet"],
                                  cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu(resource.RUSAGE_CHILDREN) - c0)
            codes.append(proc.returncode)
            files = sorted(p.name for p in Path(tmp).iterdir())
    return {"cli": {**_summary({"wall": walls, "cpu": cpus}), "exit": codes[-1], "stderr": proc.stderr.strip()[-300:],
                    "files": files}, "peak_rss_mb": _peak_rss_mb(resource.RUSAGE_CHILDREN)}


def _library_inputs(label: str):
    """The rows our sections use, as plain pandas: primary-version log, its labelled part, reference."""
    import pandas as pd

    log_df = pd.read_parquet(synthetic.DATA_DIR / f"log_{label}.parquet")
    current = log_df[log_df["model_version"] == "v1"].reset_index(drop=True)
    del log_df
    reference = pd.read_parquet(synthetic.DATA_DIR / "reference.parquet")
    labelled = current[current["outcome"].notna()].reset_index(drop=True)
    return current, labelled, reference


def worker_evidently(label: str, repeats: int) -> dict:
    """Evidently 0.7: DataDriftPreset (current vs reference, 20 features) and ClassificationPreset
    (labelled current rows: label, predicted label and score)."""
    import warnings

    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset, DataDriftPreset

    current, labelled, reference = _library_inputs(label)
    drift_def = DataDefinition(numerical_columns=synthetic.NUMERIC, categorical_columns=synthetic.CATEGORICAL)
    cls_cols = ["outcome", "predicted", "score"]

    def as_text(df):  # evidently wants plain object labels, not pandas categoricals
        return df.assign(**{c: df[c].astype(str) for c in ("outcome", "predicted")})

    cls_def = DataDefinition(numerical_columns=["score"], categorical_columns=["outcome", "predicted"],
                             classification=[BinaryClassification(target="outcome", prediction_labels="predicted",
                                                                  prediction_probas="score", pos_label="yes")])

    def drift():
        cur = Dataset.from_pandas(current[synthetic.FEATURES], data_definition=drift_def)
        ref = Dataset.from_pandas(reference[synthetic.FEATURES], data_definition=drift_def)
        return Report([DataDriftPreset()]).run(cur, ref)

    def classification():
        cur = Dataset.from_pandas(as_text(labelled[cls_cols]), data_definition=cls_def)
        return Report([ClassificationPreset()]).run(cur, None)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = _timed(drift, repeats)
        c = _timed(classification, repeats)
    return {"evidently_drift": _summary(d), "evidently_classification": _summary(c),
            "current_rows": len(current), "labelled_rows": len(labelled), "peak_rss_mb": _peak_rss_mb()}


def worker_fairlearn(label: str, repeats: int) -> dict:
    """fairlearn MetricFrame: accuracy, precision, recall, F1, balanced accuracy by ``group``."""
    import numpy as np
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        precision_score,
        recall_score,
    )

    _, labelled, _ = _library_inputs(label)
    y_true = (labelled["outcome"].astype(str) == "yes").to_numpy(dtype=int)
    y_pred = (labelled["predicted"].astype(str) == "yes").to_numpy(dtype=int)
    group = labelled["group"].astype(str).to_numpy()
    metrics = {"accuracy": accuracy_score, "precision": precision_score, "recall": recall_score, "f1": f1_score,
               "balanced_accuracy": balanced_accuracy_score}
    t = _timed(lambda: MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=group), repeats)
    return {"fairlearn_metricframe": _summary(t), "labelled_rows": len(labelled),
            "groups": len(np.unique(group)), "peak_rss_mb": _peak_rss_mb()}


QUERIES = ("confusion_by_group", "confusion_by_week", "drift_histograms", "latency_quantiles", "label_coverage", "sample")


def worker_query(label: str, repeats: int, name: str) -> dict:
    """One query of the DuckDB layer on the Parquet log (only aggregates come back)."""
    import numpy as np

    from sightline.data import aggregates as A
    from sightline.data import query as Q
    table = Q.Table.parquet(synthetic.DATA_DIR / f"log_{label}.parquet")
    primary = {"model_version": "v1"}
    week = ("ts", "week")
    if name == "confusion_by_group":
        func = lambda: A.confusion_counts(table, target="outcome", positive_label="yes", prediction="predicted",
                                          by=["group"], where=primary)
    elif name == "confusion_by_week":
        func = lambda: A.confusion_counts(table, target="outcome", positive_label="yes", prediction="predicted",
                                          window=week, where=primary)
    elif name == "drift_histograms":
        # Bin edges are the reference's deciles (the reference is small: pandas is fine there),
        # open-ended so every logged value lands in a bin, as PSI needs.
        import pandas as pd

        ref = pd.read_parquet(synthetic.DATA_DIR / "reference.parquet", columns=synthetic.NUMERIC)
        edges = {}
        for c in synthetic.NUMERIC:
            inner = np.unique(np.nanquantile(ref[c].to_numpy(dtype=float), np.linspace(0.1, 0.9, 9)))
            edges[c] = [-np.inf, *inner.tolist(), np.inf]

        def func():
            hist = A.histograms(table, edges, window=week, where=primary)
            cats = A.category_counts(table, synthetic.CATEGORICAL, window=week, where=primary)
            return hist, cats

        ref_table = Q.Table.parquet(synthetic.DATA_DIR / "reference.parquet")
        ref_counts = _as_bins(A.histograms(ref_table, edges), A.category_counts(ref_table, synthetic.CATEGORICAL))
    elif name == "latency_quantiles":
        func = lambda: A.quantiles(table, "latency_ms", by=["model_version"], window=week)
    elif name == "label_coverage":
        func = lambda: A.label_coverage(table, target="outcome", timestamp="ts", unit="week", where=primary)
    elif name == "sample":
        func = lambda: Q.sample(table, 10_000, seed=SEED, columns=synthetic.FEATURES, where=primary)
    else:
        raise ValueError(f"unknown query {name!r}")
    t = _timed(func, repeats)
    result = t["result"]
    extra = {}
    if name == "drift_histograms":  # show the aggregates are enough: PSI per feature and week
        psi = _psi(ref_counts, _as_bins(*result))
        worst = psi.groupby("column")["psi"].max().sort_values(ascending=False)
        extra["max_psi"] = {c: round(float(v), 3) for c, v in worst.head(3).items()}
    if isinstance(result, tuple):
        rows_back = sum(len(r) for r in result)
    elif isinstance(result, Q.Sample):
        rows_back = len(result.rows)
    else:
        rows_back = len(result)
    return {"query": name, **_summary(t), "rows_returned": int(rows_back), "peak_rss_mb": _peak_rss_mb(), **extra}


def _as_bins(hist, cats):
    """Numeric bins and category values as one long frame: column, [window], bin (text), count."""
    import pandas as pd

    h = hist.assign(bin=hist["bin"].astype(str))[[c for c in hist.columns if c not in ("lower", "upper")]]
    c = cats.rename(columns={"value": "bin"}).assign(bin=lambda d: d["bin"].astype(str))
    return pd.concat([h, c], ignore_index=True)


def _psi(reference, current, floor: float = 1e-4):
    """Population stability index of each (column, window) against the reference's shares,
    over the union of bins (a bin missing on one side has share 0), shares floored at
    ``floor`` so unseen categories count without dividing by zero."""
    import numpy as np

    ref = reference.groupby(["column", "bin"], as_index=False)["count"].sum()
    ref["p"] = ref["count"] / ref.groupby("column")["count"].transform("sum")
    cur = current.groupby(["column", "window", "bin"], as_index=False)["count"].sum()
    cur["q"] = cur["count"] / cur.groupby(["column", "window"])["count"].transform("sum")
    windows = cur[["column", "window"]].drop_duplicates()
    grid = (windows.merge(ref[["column", "bin"]], on="column")
            .merge(cur[["column", "window", "bin"]], how="outer")
            .drop_duplicates())
    grid = grid.merge(ref[["column", "bin", "p"]], how="left").merge(cur[["column", "window", "bin", "q"]], how="left")
    p, q = np.maximum(grid["p"].fillna(0.0), floor), np.maximum(grid["q"].fillna(0.0), floor)
    grid["term"] = (q - p) * np.log(q / p)
    return grid.groupby(["column", "window"])["term"].sum().rename("psi").reset_index()


def _worker_main(args) -> int:
    logging.basicConfig(level=logging.WARNING)
    kind, label, repeats = args.worker, args.size, args.repeats
    if kind == "load":
        out = worker_load(label, repeats)
    elif kind == "areas":
        out = worker_areas(label, repeats, [a for a in args.areas.split(",") if a] or None)
    elif kind == "cli":
        out = worker_cli(label, repeats)
    elif kind == "evidently":
        out = worker_evidently(label, repeats)
    elif kind == "fairlearn":
        out = worker_fairlearn(label, repeats)
    elif kind.startswith("query:"):
        out = worker_query(label, repeats, kind.split(":", 1)[1])
    else:
        raise SystemExit(f"unknown worker {kind!r}")
    print(json.dumps(out, default=str))
    return 0


def run_worker(kind: str, label: str, repeats: int, areas: str = "") -> dict:
    """Run one worker in a fresh process; its JSON result, or ``{"error": …}``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--size", label,
           "--repeats", str(repeats), "--areas", areas]
    log.info("  %s (%s, %d run%s) …", kind, label, repeats, "s" if repeats > 1 else "")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    log.info("    done in %.1f s (peak RSS %.0f MB)", time.perf_counter() - t0, out.get("peak_rss_mb", 0))
    return out


# ============================================================================ the table
def _s(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.3f}" if x < 1 else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "–"
    return f"**{ours / theirs:.2f}×**" if ours / theirs < 1 else f"{ours / theirs:.2f}×"


def _row(what: str, m: dict | None, peak: float | None, against: str = "–", theirs: dict | None = None,
         note: str = "") -> str:
    wall = m["wall"] if m else None
    first = m.get("first") if m else None
    cpu = m.get("cpu") if m else None
    runs = m.get("runs") if m else None
    t_wall, t_cpu = (theirs or {}).get("wall"), (theirs or {}).get("cpu")
    return (f"| {what} | {_s(wall)} | {_s(first)} | {_s(cpu)} | {runs or '–'} | "
            f"{f'{peak:,.0f}' if peak else '–'} | {against} | {_s(t_wall)} | {_ratio(wall, t_wall)} | {_ratio(cpu, t_cpu)} | {note} |")


def _plus(a: dict | None, b: dict | None) -> dict | None:
    return {"wall": a["wall"] + b["wall"], "cpu": a["cpu"] + b["cpu"]} if a and b else None


HEADER = ("| computation | ours: wall s (median) | first run s | CPU s | runs | peak RSS MB | compared with | theirs: wall s "
          "| ours / theirs (wall) | ours / theirs (CPU) | note |\n"
          "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|")


def _when(measured: dict) -> str:
    """For a library's time kept from an earlier run (``--skip-libraries``): when it was measured."""
    return f"; measured {measured['measured']} (kept: --skip-libraries)" if measured.get("measured") else ""


def size_table(label: str, res: dict) -> str:
    """The Markdown table of one size's results."""
    lines = [HEADER]
    load, areas, cli = res.get("load", {}), res.get("areas", {}), res.get("cli", {})
    ev, fl = res.get("evidently", {}), res.get("fairlearn", {})
    ev_d, ev_c = ev.get("evidently_drift"), ev.get("evidently_classification")
    mf = fl.get("fairlearn_metricframe")
    if "load_audit" in load:
        sampled = load.get("sampled")
        if "parquet_read" in load:
            lines.append(_row("Parquet read into pandas (all columns)", load["parquet_read"], None))
        note = (f"log of {sampled['population_rows']:,} rows sampled to {sampled['sample_rows']:,} (scale.max_rows); "
                "the sections below run on the sample" if sampled else "")
        lines.append(_row("load audit (read, validate, fingerprint, primary rows)", load["load_audit"], load.get("peak_rss_mb"),
                          note=note))
    compared = {"performance": ("Evidently ClassificationPreset", ev_c), "drift": ("Evidently DataDriftPreset", ev_d),
                "fairness": ("fairlearn MetricFrame (5 metrics × 5 groups)", mf)}
    for area, m in areas.get("areas", {}).items():
        against, theirs = compared.get(area, ("–", None))
        note = m.get("status", "")
        if m.get("error"):
            note = f"internal error: {str(m['error'])[:80]}"
        sample = {k: v for k, v in (m.get("provenance") or {}).items() if "sample" in k or k in ("n", "rows")}
        if sample:
            note += "; " + ", ".join(f"{k}={v}" for k, v in sample.items())
        lines.append(_row(f"section: {area}", m, None, against, theirs, note))
    if "card" in areas:
        lines.append(_row("model card: assemble + json, md, html, pdf", areas["card"], None))
    if areas.get("peak_rss_mb"):
        lines.append(f"| (all sections + card in one process) | | | | | {areas['peak_rss_mb']:,.0f} | | | | | |")
    if "cli" in cli:
        both = _plus(ev_d, ev_c)
        c = cli["cli"]
        note = f"exit {c.get('exit')}; {len(c.get('files', []))} files; target: < 0.33× the two presets"
        lines.append(_row("**full `python -m sightline report`** (every section, 4 card formats)", c, cli.get("peak_rss_mb"),
                          "Evidently DataDrift + Classification presets", both, note))
    for name in QUERIES:
        q = res.get(f"query:{name}")
        if not q or "wall" not in q:
            continue
        against, theirs = ("fairlearn MetricFrame", mf) if name == "confusion_by_group" and mf else ("–", None)
        note = f"{q.get('rows_returned', 0):,} rows returned"
        if q.get("max_psi"):
            note += "; highest weekly PSI: " + ", ".join(f"{c} {v}" for c, v in q["max_psi"].items())
        lines.append(_row(f"query (DuckDB on Parquet): {name.replace('_', ' ')}", q, q.get("peak_rss_mb"), against, theirs, note))
    if ev_d:
        lines.append(_row("*theirs:* Evidently DataDriftPreset (20 features)", ev_d, ev.get("peak_rss_mb"),
                          note=f"{ev.get('current_rows', 0):,} current vs 100,000 reference rows" + _when(ev)))
        lines.append(_row("*theirs:* Evidently ClassificationPreset", ev_c, None,
                          note=f"{ev.get('labelled_rows', 0):,} labelled rows" + _when(ev)))
    if mf:
        lines.append(_row("*theirs:* fairlearn MetricFrame", mf, fl.get("peak_rss_mb"),
                          note=f"{fl.get('labelled_rows', 0):,} labelled rows, {fl.get('groups')} groups" + _when(fl)))
    errors = [f"- {k}: {v['error']}" for k, v in res.items() if isinstance(v, dict) and v.get("error")]
    return "\n".join(lines + ([""] + errors if errors else []))


def targets_summary(merged: dict) -> list[str]:
    """The issue's targets, each with the measured figure and whether it holds."""
    def ok(flag: bool) -> str:
        return "**met**" if flag else "**not met**"

    lines = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    one = merged.get("1m", {})
    cli = (one.get("cli") or {}).get("cli")
    ev = one.get("evidently") or {}
    if cli and ev.get("evidently_drift") and ev.get("evidently_classification"):
        theirs = ev["evidently_drift"]["wall"] + ev["evidently_classification"]["wall"]
        ratio = cli["wall"] / theirs
        lines.append(f"| full report at 1M rows < 1/3 of Evidently's two presets | {cli['wall']:.1f} s vs "
                     f"{theirs:.1f} s = {ratio:.2f}× | {ok(ratio < 1 / 3)} |")
    areas = (one.get("areas") or {}).get("areas") or {}
    load = ((one.get("load") or {}).get("load_audit") or {}).get("wall")
    if areas and load is not None:
        name, worst = max(((a, m["first"]) for a, m in areas.items()), key=lambda x: x[1])
        slow = [a for a, m in areas.items() if m["first"] >= 10]
        lines.append(f"| each section alone, first run at 1M rows (engine only, no page; loading the audit, "
                     f"{load:.1f} s, comes first) < 10 s | slowest: {name} {worst:.1f} s"
                     f"{'; over 10 s: ' + ', '.join(slow) if slow else ''} | {ok(worst < 10)} |")
    pages_file = HERE / "results_pages.json"
    if pages_file.exists():
        pages = json.loads(pages_file.read_text(encoding="utf-8"))
        # pages.py times each page strict (no background computation) and as shipped: the
        # target is read on the strict figures, the stricter of the two.
        pages = {p: r["strict"] for p, r in pages.items() if "strict" in r}
        cold = max(pages.items(), key=lambda kv: kv[1]["cold_s"])
        warm = max(pages.items(), key=lambda kv: kv[1]["warm_s"])
        over = [p for p, r in pages.items() if r["cold_s"] >= 10 or r["warm_s"] >= 2]
        lines.append(f"| every dashboard page at 1M rows in Chromium: cold < 10 s, warm < 2 s, strict (no background "
                     f"computation; `benchmarks/pages.py`, table in results_pages.md) | slowest cold: {cold[0]} "
                     f"{cold[1]['cold_s']:.1f} s; slowest warm: {warm[0]} {warm[1]['warm_s']:.1f} s"
                     f"{'; over: ' + ', '.join(over) if over else ''} | {ok(not over)} |")
    five = ((merged.get("5m") or {}).get("cli") or {})
    if five.get("peak_rss_mb"):
        lines.append(f"| full report at 5M rows < 4 GB peak memory | {five['peak_rss_mb']:,.0f} MB | "
                     f"{ok(five['peak_rss_mb'] < 4096)} |")
    ten = merged.get("10m") or {}
    ten_cli = (ten.get("cli") or {})
    if (ten_cli.get("cli") or {}).get("wall") is not None:
        lines.append(f"| 10M-row log: full report (sample in memory, whole-log counts pushed down to DuckDB), with its "
                     f"memory | {ten_cli['cli']['wall']:.1f} s, exit {ten_cli['cli'].get('exit')}, peak RSS "
                     f"{ten_cli['peak_rss_mb']:,.0f} MB | {ok(ten_cli['cli'].get('exit') == 0)} |")
    qs = [ten.get(f"query:{q}") for q in QUERIES if (ten.get(f"query:{q}") or {}).get("wall") is not None]
    if qs:
        lines.append(f"| 10M-row log through DuckDB, with its memory | {len(qs)} queries, {sum(q['wall'] for q in qs):.1f} s "
                     f"in all, peak RSS ≤ {max(q['peak_rss_mb'] for q in qs):,.0f} MB | {ok(True)} |")
    return lines if len(lines) > 4 else []


def write_results(all_results: dict, path: Path, args) -> str:
    """Write (and return) the Markdown results: machine, settings, one table per size. Sizes
    measured before (kept in the .json beside ``path``) stay in the file unless re-measured."""
    raw = path.with_suffix(".json")
    merged = json.loads(raw.read_text(encoding="utf-8")) if raw.exists() else {}
    for label, res in all_results.items():  # a new run of a size replaces that size's measurements
        old = merged.get(label, {})
        if args.query_only:
            res = {**old, **res}
        elif args.skip_libraries:
            # The libraries' own times do not depend on our code: keep the last measurement of them,
            # with the date it was taken, rather than drop the comparison.
            kept = {k: {**old[k], "measured": (old.get("_meta") or {}).get("finished", "earlier")}
                    for k in ("evidently", "fairlearn") if k in old}
            res = {**kept, **res}
        merged[label] = res
    head = [
        "# Benchmark results",
        "",
        f"Machine: {platform.node() or 'this machine'}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Produced by `python benchmarks/run.py` (see README.md); each size says when and how it was measured.",
        "Wall seconds are medians over the runs shown; CPU seconds (user + system, all threads) are less "
        "sensitive to other work on the machine. Ratios below 1 (bold) mean Sightline is faster. Peak RSS "
        "is per measurement process.",
        "",
        *targets_summary(merged),
        "",
    ]
    body = []
    for label in sorted(merged, key=synthetic.parse_size):
        res = merged[label]
        rows = synthetic.parse_size(label)
        meta = res.get("_meta") or {}
        when = (f"Measured {meta['finished']} by `{meta['command']}`" + (f" ({meta['note']})" if meta.get("note") else "")
                + "; load average at the end "
                f"{' / '.join(f'{x:.1f}' for x in meta['load'])}.") if meta else ""
        body += [f"## {rows:,}-row log ({label})", "", *([when, ""] if when else []), size_table(label, res), ""]
    text = "\n".join(head + body)
    path.write_text(text + "\n", encoding="utf-8")
    raw.write_text(json.dumps(merged, indent=1, default=str), encoding="utf-8")
    return text


# ============================================================================ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated sizes (100k, 1m, 5m, 10m or N[k|m])")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement (default 3 up to 1M rows, else 1)")
    parser.add_argument("--query-only", action="store_true", help="only the DuckDB query layer (for logs too large for memory)")
    parser.add_argument("--skip-libraries", action="store_true", help="do not run Evidently and fairlearn")
    parser.add_argument("--skip-cli", action="store_true", help="do not run the end-to-end report")
    parser.add_argument("--areas", default="", help="comma-separated areas to time (default: every registered area)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file (a .json with raw numbers beside it)")
    parser.add_argument("--render-only", action="store_true", help="rewrite the Markdown from the stored .json, measuring nothing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.repeats = args.repeats or 1
        return _worker_main(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    all_results: dict = {}
    if args.render_only:
        print(write_results(all_results, args.out, args))
        return 0
    for label in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        rows = synthetic.parse_size(label)
        label = synthetic.size_label(rows)
        repeats = args.repeats or (3 if rows <= 1_000_000 else 1)
        log.info("%s rows: data …", f"{rows:,}")
        synthetic.ensure(label)
        res: dict = {}
        if not args.query_only:
            res["load"] = run_worker("load", label, repeats)
            res["areas"] = run_worker("areas", label, repeats, args.areas)
            if not args.skip_cli:
                res["cli"] = run_worker("cli", label, repeats)
            if not args.skip_libraries:
                res["evidently"] = run_worker("evidently", label, repeats)
                res["fairlearn"] = run_worker("fairlearn", label, repeats)
        for name in QUERIES:
            res[f"query:{name}"] = run_worker(f"query:{name}", label, repeats)
        res["_meta"] = {"command": "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
                        "finished": datetime.now(UTC).replace(microsecond=0).isoformat(),
                        "load": [round(x, 2) for x in os.getloadavg()]}
        all_results[label] = res
    text = write_results(all_results, args.out, args)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

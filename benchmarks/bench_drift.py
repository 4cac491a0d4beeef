"""Compute times of the Drift page on the synthetic benchmark logs (default 100k and 1M rows).

Run: ``python benchmarks/bench_drift.py [--sizes 100k 1m]``. The logs come from
``benchmarks/synthetic.py`` (generated into ``benchmarks/data/`` if missing): 20 features
(10 numeric, 10 categorical with 3–100 categories), 12 weeks, a 100,000-row reference, late labels,
planted covariate shift, a new category and concept drift. Timed, as a first (uncached) visit
makes them:

- ``drift_vs_reference``: evidently 0.7's DataDriftPreset + ValueDrift(score) on a seeded random
  sample of ``drift.sample_size`` rows of each side (default 20,000; the rest of evidently's
  cost does not grow with the log) plus the label's ValueDrift, and PSI, effect sizes and the
  reference calibration on **every** row;
- ``drift_over_time`` for weekly, daily and monthly windows: PSI and chi-square per feature and
  window, missing values, realised and label-free performance, score→outcome, concept-drift
  segments, feature changes, unseen categories — all rows, no sampling;
- ``drift_section`` (everything the page, report.json and the card use, weekly windows).

The first evidently call also pays for importing evidently (reported separately). Wall and CPU
seconds are printed: the machine is shared, and CPU time says more about the code.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

log = logging.getLogger("bench_drift")


def timed(label: str, rows: int, fn):
    """Run ``fn`` once; print wall and CPU seconds and rows per wall second; return its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:52s} {rows:>10,} rows  wall {wall:7.2f} s  cpu {cpu:7.2f} s  {rows / wall:>12,.0f} rows/s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100k", "1m"], help="log sizes (synthetic.py labels)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import synthetic

    from sightline.data.audit import load_audit
    from sightline.data.spec import load_spec
    from sightline.drift import drift_over_time, drift_section, drift_settings, drift_vs_reference

    timed("import evidently (once per process)", 0, lambda: __import__("evidently.presets"))
    for label in args.sizes:
        audit_path = synthetic.ensure(label)
        audit = timed(f"[{label}] load_audit (parquet, validation)", synthetic.parse_size(label),
                      lambda: load_audit(load_spec(audit_path)))
        rows = len(audit.primary)
        settings = drift_settings(audit)
        vs = timed(f"[{label}] drift_vs_reference (evidently on samples)", rows, lambda: drift_vs_reference(audit, settings))
        ev = vs.provenance["evidently"]
        print(f"    evidently sample: {ev['current_sample']:,} of {rows:,} production rows, "
              f"{ev['reference_sample']:,} of {len(audit.reference):,} reference rows (seed {ev['seed']}); "
              f"features drifted {vs.dataset['n_drifted']} of {vs.dataset['n_features']}")
        for window in ("week", "day", "month"):
            ot = timed(f"[{label}] drift_over_time ({window})", rows, lambda: drift_over_time(audit, window, settings))
            print(f"    {len(ot.windows)} windows, {int(ot.psi['drifted'].sum())} flagged feature×window cells, "
                  f"{len(ot.feature_changes)} feature changes, {len(ot.unseen)} unseen categories, "
                  f"{int(ot.segments['significant'].sum()) if len(ot.segments) else 0} concept-drift cells")
        section = timed(f"[{label}] drift_section (everything, weekly)", rows, lambda: drift_section(audit))
        print(f"    verdict: {section.verdict.status}: {section.verdict.headline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m sightline report|validate AUDIT.yaml``.

Exit status: 0 done; 1 done but a ``--fail-on`` area did not pass (one of its gates in the audit
file failed or was not evaluated; for an area without gates: its verdict is red, or it has no
result); 2 bad input, with one line on stderr naming the file, column or value (never a
traceback); 3 an internal error (a bug: rerun with ``--debug`` for the traceback and report it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sightline.card import assemble_card
from sightline.card.export import write_card_files
from sightline.card.prerender import ChartPrerenderer
from sightline.core.errors import SightlineInputError, SpecError
from sightline.core.text import PROSE_LIMIT, short_words
from sightline.data.audit import _read, load_audit
from sightline.data.spec import load_spec
from sightline.data.validation import ERROR, validate_inputs
from sightline.report.gates import FAIL_ON_AREAS, GATES, PASSED, check_areas
from sightline.report.registry import build_report, default_workers, report_json

EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3
log = logging.getLogger("sightline")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sightline", description="Sightline: audit a model's prediction log headless.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="run every analysis and write report.json and the model card")
    rep.add_argument("audit", help="path to audit.yaml")
    rep.add_argument("--out", required=True, help="output folder (created if missing)")
    rep.add_argument("--fail-on", default="", metavar="AREA,…",
                     help="comma-separated areas that make the exit status 1 when they do not pass: an area with gates: in the "
                          "audit file fails when one of them fails or cannot be evaluated; any other area fails when its verdict "
                          "is red or it has no result (amber and green pass). Areas: " + ",".join(FAIL_ON_AREAS))
    rep.add_argument("--quiet", action="store_true", help="print nothing but errors")
    rep.add_argument("--workers", type=int, default=0,
                     help="areas computed at the same time (threads; default: the number of cores, at most 4; one above 2.5M rows in memory, to bound memory)")
    val = sub.add_parser("validate", help="check the audit file and its data; print every finding")
    val.add_argument("audit", help="path to audit.yaml")
    return parser


def _validate(args) -> int:

    spec = load_spec(args.audit)
    current, cur_info, drawn = _read(spec, spec.current, "current")
    reference = _read(spec, spec.reference, "reference")[0] if spec.reference is not None else None
    findings = validate_inputs(spec, current, reference)
    if spec.model_path() is not None:

        if not any(f.level == ERROR for f in findings):
            load_audit(spec)  # raises ModelError for a bad model
    for f in findings:
        print(f.line())
    errors = [f for f in findings if f.level == ERROR]
    if errors:
        print(f"{args.audit}: {len(errors)} error(s) — first: {errors[0].subject}: {errors[0].message}", file=sys.stderr)
        return EXIT_INPUT
    checked = f"{cur_info.rows:,} logged rows" + (f", checked on a {drawn.rows:,}-row sample" if drawn else "")
    print(f"{args.audit}: valid ({checked}; {len(findings)} note(s))")
    return EXIT_OK


def _gate_areas(text: str) -> list[str]:
    """The areas named by ``--fail-on`` (comma-separated, each once). A name that is not one of
    :data:`~sightline.report.gates.FAIL_ON_AREAS` raises :class:`SpecError`: a misspelt area would
    otherwise switch its check off without a word."""

    wanted = list(dict.fromkeys(a.strip() for a in text.split(",") if a.strip()))
    unknown = [a for a in wanted if a not in FAIL_ON_AREAS]
    if unknown:
        names = ", ".join(repr(a) for a in unknown)
        gated = {g.area for g in GATES.values()}
        with_gates, by_verdict = [a for a in FAIL_ON_AREAS if a in gated], [a for a in FAIL_ON_AREAS if a not in gated]
        raise SpecError(f"--fail-on: {names} {'is not an area' if len(unknown) == 1 else 'are not areas'} with gates — "
                        f"use any of {','.join(with_gates)} (gates: or verdict) or {','.join(by_verdict)} (verdict only)")
    return wanted


def _report(args) -> int:

    wanted = _gate_areas(args.fail_on)  # before any work: a typo must not cost a whole run
    spec = load_spec(args.audit)
    audit = load_audit(spec)
    if not args.quiet:  # e.g. a column refused for grouping: the run goes on without it
        for f in audit.findings:
            if f.level == "warning":
                print(short_words(f.line(), PROSE_LIMIT))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    workers = args.workers or default_workers(audit)
    # The card's charts render in a child process while the sections are still computing.
    with ChartPrerenderer() as charts:
        report = build_report(audit, progress=None if args.quiet else (lambda area: print(f"computing {area} …", flush=True)),
                              workers=workers, on_section=charts.submit)
        checks = check_areas(report, wanted) if wanted else []
        (out / "report.json").write_text(_report_text(report, wanted, checks), encoding="utf-8")
        graphics = charts.graphics(report)
    written = ["report.json"] + write_card_files(report, out, doc=assemble_card(report, graphics=graphics))
    if not args.quiet:
        for area, section in report.sections.items():
            print(f"{area:15s} {section.verdict.status:13s} {short_words(section.verdict.headline, PROSE_LIMIT)}")
        print(f"wrote {', '.join(written)} to {out}")
    broken = [area for area, s in report.sections.items() if "internal_error" in s.report]
    if broken:
        print(f"internal error in {', '.join(broken)} (the other sections were written) — rerun with --debug and report it", file=sys.stderr)
        return EXIT_BUG
    for status, line in (line for check in checks for line in check.lines()):
        if status != PASSED:
            print(f"gate {status}: {line}", file=sys.stderr)
        elif not args.quiet:  # the user sees every area asked for was checked, and on what
            print(f"gate {status}: {line}")
    return EXIT_GATE if any(c.passed is not True for c in checks) else EXIT_OK


def _report_text(report, wanted: list[str], checks) -> str:
    """report.json; with ``--fail-on``, its outcome under ``fail_on`` (README, "report.json")."""
    if not wanted:
        return report_json(report)
    outcome = {"areas": wanted, "passed": all(c.passed is True for c in checks), "checks": [c.to_dict() for c in checks]}
    return report_json(report, extra={"fail_on": outcome})


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    # Library warnings stay on stderr; progress is printed to stdout by the commands themselves.
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        if args.command == "validate":
            return _validate(args)
        return _report(args)
    except SightlineInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: say so in one line unless --debug
        if args.debug:
            raise
        print(f"internal error ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}) "
              "— rerun with --debug and report it", file=sys.stderr)
        return EXIT_BUG

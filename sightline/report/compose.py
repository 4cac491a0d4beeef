"""Sections that carry another area's result, composed here — above the areas — so that no
analysis area imports another: the Operations section holds the model-version comparison."""

from __future__ import annotations

from sightline.charts.operations import latency_over_time_chart, throughput_chart
from sightline.charts.versions import metric_difference_chart
from sightline.core.section import Chart, Section
from sightline.data.audit import Audit
from sightline.operations import INCIDENT_FACTOR, MIN_WINDOW_REQUESTS, operations_metrics, operations_report, operations_result, operations_verdict
from sightline.versions import compare_versions, versions_report


def operations_section(audit: Audit) -> Section:
    """Operations for the report and card: daily windows, default incident rule, and the
    model-version comparison under ``report["versions"]``."""
    result = operations_result(audit)
    report = operations_report(result)
    comparisons = {}
    if len(audit.versions) > 1:
        for candidate in audit.versions:
            if candidate != audit.primary_version:
                comparisons[candidate] = compare_versions(audit, candidate)
    report["versions"] = versions_report(audit, comparisons)
    charts = []
    if result.has_latency and result.has_time:
        charts.append(Chart("latency_over_time", "Latency percentiles per day and model version", latency_over_time_chart(result)))
    if result.has_time:
        charts.append(Chart("throughput", "Requests per day and model version", throughput_chart(result)))
    for candidate, comp in comparisons.items():
        if comp.metrics is not None and len(comp.metrics):
            charts.append(Chart(f"version_comparison_{len(charts)}", f"{candidate} minus {comp.baseline}: metric differences (95% CI)",
                                metric_difference_chart(comp)))
    tables = {"latency_percentiles": result.latency.reset_index()} if result.has_latency else {}
    if len(result.incidents):
        tables["latency_incidents"] = result.incidents
    for candidate, comp in comparisons.items():
        if comp.metrics is not None and len(comp.metrics):
            tables[f"version_comparison {candidate}"] = comp.metrics
    provenance = {
        "rows": int(len(audit.current)), "window": result.window, "percentile_method": "numpy linear (np.percentile default)",
        "incident_rule": f"window p99 ≥ {INCIDENT_FACTOR:g}× the version's median window p99 (windows with ≥ {MIN_WINDOW_REQUESTS} requests); "
                         "smaller windows: share of requests above the version's p99 significantly > 1% (binomial, Bonferroni)",
        "max_p99_latency_ms": result.settings["max_p99_latency_ms"],
        "versions": {c: comp.provenance for c, comp in comparisons.items()},
    }
    return Section(area="operations", verdict=operations_verdict(result), report=report,
                   metrics=operations_metrics(result), charts=tuple(charts), provenance=provenance, tables=tables,
                   results={"result": result, "versions": comparisons})

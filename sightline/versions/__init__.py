"""Model versions: compare two versions of one log, on the same requests when possible.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.versions.section import NO_VERSION_COLUMN, ONE_VERSION, VersionComparison, compare_versions, versions_report, versions_verdict

__all__ = [
    "compare_versions", "NO_VERSION_COLUMN", "ONE_VERSION", "VersionComparison", "versions_report", "versions_verdict",
]

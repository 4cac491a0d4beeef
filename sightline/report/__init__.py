"""The report: the registry of areas, report.json, release gates."""

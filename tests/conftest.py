"""Shared fixtures: the bundled sample audit, loaded once per test session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLE_AUDIT = ROOT / "sample_data" / "audit.yaml"

# Page tests (AppTest) run many audits in one process: computing every area of each in the
# background would only compete with the test for the cores. One test turns it back on.
os.environ["SIGHTLINE_PRECOMPUTE"] = "0"


@pytest.fixture(scope="session")
def sample_spec():
    from sightline.data.spec import load_spec

    return load_spec(SAMPLE_AUDIT)


@pytest.fixture(scope="session")
def sample_audit(sample_spec):
    from sightline.data.audit import load_audit

    return load_audit(sample_spec)

"""Validation of a model card against the bundled Model Card Toolkit schema v0.0.2."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "model_card.schema.v0.0.2.json"


@lru_cache(maxsize=1)
def model_card_schema() -> dict:
    """The JSON Schema (draft-07) shipped in ``sightline/card/schema/`` (see its README)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema_errors(card: dict) -> list[str]:
    """Every schema violation of ``card`` as ``"path: message"`` lines (empty when valid).
    Formats (``date``, ``uri`` where a checker is installed) are checked too."""
    import jsonschema

    validator = jsonschema.Draft7Validator(model_card_schema(), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(str(p) for p in err.absolute_path) or '(top level)'}: {err.message}"
            for err in sorted(validator.iter_errors(card), key=lambda e: list(map(str, e.absolute_path)))]


def validate_model_card(card: dict) -> None:
    """Raise ``ValueError`` listing the violations when ``card`` does not match the schema."""
    errors = schema_errors(card)
    if errors:
        raise ValueError("model card does not match the Model Card Toolkit schema v0.0.2: " + "; ".join(errors[:5])
                         + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""))

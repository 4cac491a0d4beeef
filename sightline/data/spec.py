"""The audit file (``audit.yaml``): read, validate, write.

One frozen :class:`AuditSpec` describes one audit and flows through every computation.
Paths inside the file are relative to the file. Every mistake becomes a
:class:`~sightline.core.errors.SpecError` whose message names the key and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from sightline.core.deployment import current_deployment
from sightline.core.errors import SpecError

TASKS = ("binary", "multiclass", "regression")
ROLE_KEYS = ("target", "prediction", "score", "timestamp", "model_version", "latency_ms", "id")
TOP_LEVEL_KEYS = (
    "name", "version", "task", "positive_label", "current", "reference", "model",
    "primary_version", "threshold", "columns", "fairness", "slices", "calibration",
    "explain", "drift", "gates", "scale", "card",
)
COLUMN_KEYS = ROLE_KEYS + ("features", "sensitive")
FAIRNESS_KEYS = ("reference_groups", "min_group_size", "tolerance", "intersections", "subjects")
SECTION_KEYS = {
    "slices": ("columns", "min_size", "max_order", "n_bins"),
    "calibration": ("n_bins", "strategy"),
    "explain": ("sample_size", "background_size", "seed"),
    "drift": ("method", "threshold", "columns", "window", "drift_share", "sample_size", "psi_threshold"),
    "gates": (
        "min_roc_auc", "min_accuracy", "min_f1", "max_ece", "max_brier_score",
        "max_demographic_parity_difference", "max_equalized_odds_difference",
        "min_disparate_impact_ratio", "max_drift_share", "max_p99_latency_ms",
    ),
    "scale": ("max_rows", "sample_rows", "seed"),
}
# The Model Card Toolkit's names for the qualitative sections.
CARD_KEYS = (
    "overview", "documentation", "owners", "version_date", "licenses", "references",
    "citations", "path", "users", "use_cases", "limitations", "tradeoffs",
    "ethical_considerations", "model_architecture", "data_notes", "sign_off",
)
# Bounds on what reading an audit file may cost: an audit file is a page of settings, so a
# megabyte or a hundred thousand values (after YAML aliases are expanded) is far beyond any real one.
MAX_AUDIT_CHARS = 1_000_000
MAX_YAML_NODES = 100_000
SOURCE_KEYS = ("path", "url", "connection", "query", "delimiter", "encoding")


@dataclass(frozen=True)
class Source:
    """Where a table comes from: a file (``path``) or a SQL query run on a raw ``url`` or on a
    ``connection`` the server's administrator named in ``secrets.toml``.

    ``path`` is stored as written in the audit file; :meth:`resolve` makes it absolute under the
    server's :class:`~sightline.core.deployment.Deployment` rules.
    """

    path: str | None = None
    url: str | None = None
    query: str | None = None
    connection: str | None = None
    delimiter: str | None = None
    encoding: str | None = None

    @property
    def is_sql(self) -> bool:
        return self.url is not None or self.connection is not None

    def describe(self) -> str:
        """A short human label: the file name, the connection's name or the URL for SQL sources."""
        if self.connection is not None:
            return f"connection {self.connection}"
        if self.url is not None:
            return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", self.url)  # never show a password
        return str(self.path)

    def resolve(self, base_dir: Path) -> Path:
        """The absolute path of a file source, relative paths taken from ``base_dir``. Raises
        :class:`~sightline.core.errors.AccessError` where the deployment does not allow the path."""
        return current_deployment().resolve_path(self.path, base_dir, what="file")

    def sql_url(self) -> str:
        """The URL a SQL source runs on (its named connection's, or its own in local mode).
        Raises :class:`~sightline.core.errors.AccessError` where the deployment refuses it."""
        return current_deployment().sql_url(url=self.url, connection=self.connection)

    def to_yaml(self) -> Any:
        """Plain string for a bare path, a mapping otherwise (the audit-file form)."""
        if self.path is not None and self.delimiter is None and self.encoding is None:
            return self.path
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Columns:
    """Column roles. ``features`` None means every column not named by a role."""

    target: str | None = None
    prediction: str | None = None
    score: str | None = None
    timestamp: str | None = None
    model_version: str | None = None
    latency_ms: str | None = None
    id: str | None = None
    features: tuple[str, ...] | None = None
    sensitive: tuple[str, ...] = ()

    def roles(self) -> dict[str, str]:
        """Role name to column name, for the roles that are set."""
        return {k: getattr(self, k) for k in ROLE_KEYS if getattr(self, k)}


@dataclass(frozen=True)
class Fairness:
    """Fairness settings: reference group per sensitive column, minimum group size, tolerances."""

    reference_groups: Mapping[str, Any] = field(default_factory=dict)
    min_group_size: int = 30
    tolerance: Mapping[str, float] = field(default_factory=dict)
    intersections: bool = True
    subjects: str | None = None   # "people" or "rows": who a group's rows are, for the sentences (None: by task)


@dataclass(frozen=True)
class AuditSpec:
    """One audit, as written in ``audit.yaml``. ``base_dir`` anchors relative paths."""

    name: str
    task: str
    current: Source
    columns: Columns
    version: str = ""
    positive_label: Any = None
    reference: Source | None = None
    model: str | None = None
    primary_version: str | None = None
    threshold: float = 0.5
    fairness: Fairness = Fairness()
    slices: Mapping[str, Any] = field(default_factory=dict)
    calibration: Mapping[str, Any] = field(default_factory=dict)
    explain: Mapping[str, Any] = field(default_factory=dict)
    drift: Mapping[str, Any] = field(default_factory=dict)
    gates: Mapping[str, Any] = field(default_factory=dict)
    scale: Mapping[str, Any] = field(default_factory=dict)
    card: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path = Path(".")
    source_file: str | None = None

    def model_path(self) -> Path | None:
        """Absolute path of the model artifact, or None when the audit names none."""
        if not self.model:
            return None
        return current_deployment().resolve_path(self.model, self.base_dir, what="model")

    def replace(self, **changes: Any) -> "AuditSpec":
        """A copy with some fields changed (the spec itself is frozen)."""
        return dataclasses.replace(self, **changes)


def _unknown_key_message(where: str, key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
    return f"{where}: unknown key '{key}' — {hint}"


def _check_keys(mapping: Mapping, allowed: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise SpecError(_unknown_key_message(where, key, allowed))


def _as_mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{where} must be a mapping of key: value, got {type(value).__name__}")
    return dict(value)


def _parse_source(value: Any, where: str) -> Source:
    if isinstance(value, (str, Path)):
        if not str(value).strip():
            raise SpecError(f"'{where}' is empty — give a file path (.csv, .parquet, .jsonl) or {{url, query}}")
        return Source(path=str(value))
    if isinstance(value, Mapping):
        _check_keys(value, SOURCE_KEYS, f"'{where}'")
        src = Source(**{k: (str(v) if v is not None else None) for k, v in value.items()})
        if src.url and src.connection:
            raise SpecError(f"'{where}' names both 'url' and 'connection' — keep one")
        if src.is_sql and not src.query:
            raise SpecError(f"'{where}.query' is missing — a SQL source needs a query beside its url or connection")
        if src.query and not src.is_sql:
            raise SpecError(f"'{where}.url' is missing — e.g. url: \"duckdb:///logs.db\", or connection: NAME")
        if not src.is_sql and not src.path:
            raise SpecError(f"'{where}' needs 'path', or 'url' (or 'connection') + 'query'")
        return src
    raise SpecError(f"'{where}' must be a file path or a mapping with url and query, got {type(value).__name__}")


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise SpecError(f"'{where}' must be a list of column names, e.g. [age, sex]")
    return tuple(str(v) for v in value)


def _parse_columns(raw: Any) -> Columns:
    cols = _as_mapping(raw, "'columns'")
    _check_keys(cols, COLUMN_KEYS, "'columns'")
    roles = {}
    for key in ROLE_KEYS:
        value = cols.get(key)
        if value is not None and not isinstance(value, (str, int)):
            raise SpecError(f"'columns.{key}' must be one column name, got {value!r}")
        roles[key] = str(value) if value not in (None, "") else None
    features = cols.get("features")
    return Columns(
        **roles,
        features=None if features is None else _str_list(features, "columns.features"),
        sensitive=_str_list(cols.get("sensitive"), "columns.sensitive"),
    )


def _parse_fairness(raw: Any) -> Fairness:
    fair = _as_mapping(raw, "'fairness'")
    _check_keys(fair, FAIRNESS_KEYS, "'fairness'")
    min_size = fair.get("min_group_size", 30)
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1:
        raise SpecError(f"'fairness.min_group_size' must be a whole number ≥ 1, got {min_size!r}")
    tolerance = _as_mapping(fair.get("tolerance"), "'fairness.tolerance'")
    for k, v in tolerance.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise SpecError(f"'fairness.tolerance.{k}' must be a number, got {v!r}")
    subjects = fair.get("subjects")
    if subjects is not None and subjects not in ("people", "rows"):
        raise SpecError(f"'fairness.subjects' must be 'people' (the sensitive columns describe persons) or 'rows' "
                        f"(anything else: districts, products), got {subjects!r}")
    return Fairness(
        subjects=subjects,
        reference_groups=_as_mapping(fair.get("reference_groups"), "'fairness.reference_groups'"),
        min_group_size=min_size,
        tolerance={k: float(v) for k, v in tolerance.items()},
        intersections=bool(fair.get("intersections", True)),
    )


def spec_from_dict(data: Any, base_dir: Path | str = ".", source_file: str | None = None) -> AuditSpec:
    """Build and validate an :class:`AuditSpec` from a parsed audit mapping.

    Inputs: the mapping (as from ``yaml.safe_load``), the folder relative paths start from.
    Output: the frozen spec. Raises :class:`SpecError` naming the key and the fix.
    """
    if not isinstance(data, Mapping):
        raise SpecError("the audit file must be a YAML mapping (key: value lines), e.g. 'name: My model'")
    _check_keys(data, TOP_LEVEL_KEYS, "audit file")
    task = data.get("task", "binary")
    if task not in TASKS:
        raise SpecError(f"'task: {task}' is not a task Sightline knows — use one of: {', '.join(TASKS)}")
    if data.get("current") in (None, ""):
        raise SpecError("'current' is missing — name the prediction log, e.g. current: predictions.parquet")
    positive_label = data.get("positive_label")
    if task == "binary" and positive_label in (None, ""):
        raise SpecError("'positive_label' is missing — a binary audit must say which label is positive, e.g. positive_label: \">50K\"")
    if task != "binary" and positive_label not in (None, ""):
        raise SpecError(f"'positive_label' only applies to task: binary (this audit is {task}) — remove it")
    threshold = data.get("threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise SpecError(f"'threshold' must be a number between 0 and 1, got {threshold!r}")
    sections = {}
    for key, allowed in SECTION_KEYS.items():
        sections[key] = _as_mapping(data.get(key), f"'{key}'")
        _check_keys(sections[key], allowed, f"'{key}'")
    card = _as_mapping(data.get("card"), "'card'")
    _check_keys(card, CARD_KEYS, "'card'")
    model = data.get("model")
    if model is not None and not isinstance(model, str):
        raise SpecError(f"'model' must be a path to a .skops file, got {model!r}")
    name = data.get("name") or "Untitled audit"
    return AuditSpec(
        name=str(name),
        version=str(data.get("version") or ""),
        task=task,
        positive_label=positive_label,
        current=_parse_source(data["current"], "current"),
        reference=None if data.get("reference") in (None, "") else _parse_source(data["reference"], "reference"),
        model=model or None,
        primary_version=None if data.get("primary_version") is None else str(data["primary_version"]),
        threshold=float(threshold),
        columns=_parse_columns(data.get("columns")),
        fairness=_parse_fairness(data.get("fairness")),
        card=card,
        base_dir=Path(base_dir),
        source_file=source_file,
        **sections,
    )


def load_spec(path: Path | str) -> AuditSpec:
    """Read and validate an audit file. Raises :class:`SpecError` for every problem."""
    path = Path(path)
    if not path.exists():
        raise SpecError(f"{path}: audit file not found — check the path")
    if path.is_dir():
        raise SpecError(f"{path}: is a folder — give the audit.yaml file inside it")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}) — save the audit file as UTF-8") from None
    return spec_from_yaml(text, base_dir=path.resolve().parent, source_file=str(path))


def _check_expansion(root: yaml.Node | None, label: str) -> None:
    """Refuse a YAML document whose aliases expand it past :data:`MAX_YAML_NODES` nodes, or
    that refers to itself: composing shares aliased nodes, but everything that walks the parsed
    mapping (validation, fingerprints, the card) would meet every copy."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def expanded(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise SpecError(f"{label}: a YAML alias refers to the node that contains it — remove the recursive '*' reference")
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += expanded(child)
            if total > MAX_YAML_NODES:
                raise SpecError(f"{label}: its YAML aliases ('*name') expand to more than {MAX_YAML_NODES:,} values — "
                                "an audit file needs far fewer; write the values out instead of nesting aliases")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    if root is not None:
        expanded(root)


def spec_from_yaml(text: str, base_dir: Path | str = ".", source_file: str | None = None) -> AuditSpec:
    """Parse audit-file text. ``source_file`` only labels error messages."""
    label = source_file or "audit file"
    if not text.strip():
        raise SpecError(f"{label}: the audit file is empty — start from sample_data/audit.yaml")
    if len(text) > MAX_AUDIT_CHARS:
        raise SpecError(f"{label}: the audit file has {len(text):,} characters, more than the {MAX_AUDIT_CHARS:,} an "
                        "audit file may have — is this the right file?")
    try:
        _check_expansion(yaml.compose(text, Loader=yaml.SafeLoader), label)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"{label}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise SpecError(f"{label}: the YAML is nested too deeply to be an audit file — flatten it") from None
    try:
        return spec_from_dict(data, base_dir=base_dir, source_file=source_file)
    except SpecError as exc:
        raise SpecError(f"{label}: {exc}") from None


def spec_to_dict(spec: AuditSpec) -> dict:
    """The audit-file mapping of a spec (paths as written, empty sections left out)."""
    cols = {k: v for k, v in dataclasses.asdict(spec.columns).items() if v not in (None, (), [])}
    for key in ("features", "sensitive"):
        if key in cols:
            cols[key] = list(cols[key])
    out: dict[str, Any] = {"name": spec.name}
    if spec.version:
        out["version"] = spec.version
    out["task"] = spec.task
    if spec.positive_label is not None:
        out["positive_label"] = spec.positive_label
    out["current"] = spec.current.to_yaml()
    if spec.reference is not None:
        out["reference"] = spec.reference.to_yaml()
    if spec.model:
        out["model"] = spec.model
    if spec.primary_version:
        out["primary_version"] = spec.primary_version
    if spec.threshold != 0.5:
        out["threshold"] = spec.threshold
    out["columns"] = cols
    fair = spec.fairness
    fairness: dict[str, Any] = {"min_group_size": fair.min_group_size}
    if fair.reference_groups:
        fairness = {"reference_groups": dict(fair.reference_groups), **fairness}
    if fair.tolerance:
        fairness["tolerance"] = dict(fair.tolerance)
    if not fair.intersections:
        fairness["intersections"] = False
    if fair.subjects:
        fairness["subjects"] = fair.subjects
    out["fairness"] = fairness
    for key in SECTION_KEYS:
        if getattr(spec, key):
            out[key] = dict(getattr(spec, key))
    if spec.card:
        out["card"] = dict(spec.card)
    return out


def spec_to_yaml(spec: AuditSpec) -> str:
    """The audit file text of a spec; ``spec_from_yaml`` reads it back to an equal spec."""
    return yaml.safe_dump(spec_to_dict(spec), sort_keys=False, allow_unicode=True, width=100)


def dump_spec(spec: AuditSpec, path: Path | str) -> None:
    """Write a spec as an audit file at ``path`` (UTF-8)."""
    Path(path).write_text(spec_to_yaml(spec), encoding="utf-8")

"""House rules that keep the design honest (DESIGN.md, "Architecture")."""

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "sightline"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_engine_never_imports_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in ENGINE.rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_importing_every_engine_module_loads_no_streamlit():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in ENGINE.rglob("*.py")
                     if p.name not in ("__main__.py",))
    code = ("import sys, importlib\n"
            f"for m in {modules!r}:\n    importlib.import_module(m.removesuffix('.__init__'))\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_caching_lives_only_at_the_ui_boundary():
    """``st.cache_*`` only in components/ — never in pages/, app.py or the engine — and there only in
    the audit loader (components/cache.py) and the one generic cached-result helper every per-area
    wrapper goes through (components/cached: ``per_audit``)."""
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "components").rglob("*.py"), *ENGINE.rglob("*.py")]
    users = sorted(str(p.relative_to(ROOT)) for p in files if "st.cache_" in p.read_text(encoding="utf-8"))
    assert users == ["components/cache.py", "components/cached/__init__.py"]


def test_the_app_routes_every_page_file():
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    pages = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert pages and all(p in app for p in pages)


def test_every_page_hands_a_direct_visit_to_the_router_before_drawing():
    """A browser opening /drift directly must still get app.py's navigation (components/router.py)."""
    for path in (ROOT / "pages").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        statements = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr)) or
                      (isinstance(n, ast.Expr) and not isinstance(n.value, ast.Constant))]
        first = statements[0]
        assert isinstance(first, ast.Expr) and ast.unparse(first) == "router.ensure_routed()", path.name


# --- The engine's layers (docs/ENGINE.md): lower never imports higher, areas never import each other.
AREAS = ("performance", "slices", "calibration", "explain", "fairness", "drift", "operations", "versions")
ALLOWED = {
    "core": set(),
    "stats": {"core"},
    "data": {"core", "stats"},
    "charts": {"core"},
    **{area: {"core", "stats", "data", "charts"} for area in AREAS},
    "report": {"core", "stats", "data", "charts", *AREAS},
    "card": {"core", "stats", "data", "charts", "report"},
    "cli": {"core", "stats", "data", "charts", *AREAS, "report", "card"},
    "__main__": {"cli"},
}


def _engine_modules() -> dict[str, Path]:
    mods = {}
    for p in ENGINE.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    return mods


def _engine_imports(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, ast.AST]]:
    """(imported engine module, import node) for every import of ours in one module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            if t in mods and t != name:
                out.append((t, node))
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sightline"


def test_the_engine_is_layered_and_areas_never_import_each_other():
    mods = _engine_modules()
    wrong = []
    for name, path in mods.items():
        src = _layer(name)
        if src == "sightline":
            continue
        assert src in ALLOWED, f"{name}: a package the layering does not know — add it to ALLOWED and docs/ENGINE.md"
        for target, node in _engine_imports(name, path, mods):
            dst = _layer(target)
            if dst != src and dst != "sightline" and dst not in ALLOWED[src]:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {src} → {dst} ({target})")
    assert wrong == [], "\n".join(wrong)


def test_the_engine_has_no_import_cycles():
    mods = _engine_modules()
    edges = {}
    for name, path in mods.items():
        edges[name] = {t for t, _ in _engine_imports(name, path, mods)}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            # A package's __init__ importing its own modules (its public face) is not a cycle of design;
            # a module importing its package's face while the face imports it back is.
            modules = [c for c in comp if mods[c].name != "__init__.py"]
            if len(modules) > 1:
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    assert cycles == [], "\n".join(" → ".join(c) for c in cycles)


def test_engine_modules_import_ours_at_the_top_only():
    """An import of our own code inside a function hides a dependency (usually a cycle dodged);
    only heavy third-party libraries are imported lazily."""
    mods = _engine_modules()
    hidden = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(func):
                    if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sightline"):
                        hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
                    elif isinstance(node, ast.Import) and any(a.name.startswith("sightline") for a in node.names):
                        hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == [], "\n".join(hidden)


def test_no_module_re_exports_another():
    """A name imported from our own code must be used where it is imported: a module that only
    passes names on is a facade left by a split. A package's ``__init__`` (its public face, with
    ``__all__``) is the one place that re-exports."""
    mods = _engine_modules()
    facades = []
    for name, path in mods.items():
        if path.name in ("__init__.py", "__main__.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
               {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        text = path.read_text(encoding="utf-8")
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sightline"):
                for a in node.names:
                    bound = a.asname or a.name
                    # Names used only in string annotations count as used.
                    if bound not in used and f"{bound}" not in text.replace(f"import {bound}", "").replace(f", {bound}", ""):
                        facades.append(f"{path.relative_to(ROOT)}:{node.lineno} {bound}")
    assert facades == [], "\n".join(facades)


AREA_PACKAGES = ("performance", "slices", "calibration", "explain", "fairness", "drift", "operations", "versions")


def test_every_package_has_a_small_public_face():
    """Every package says what it holds; every analysis area has a public face (``__all__``) that
    names only what its modules define, and the UI imports an area through that face only."""
    for init in ENGINE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init.relative_to(ROOT)} says what the package holds"
    for area in AREA_PACKAGES:
        package = importlib.import_module(f"sightline.{area}")
        face = getattr(package, "__all__", None)
        assert face and len(face) <= 30, f"sightline/{area}/__init__.py lists its public names in __all__ (a small face)"
        for name in face:
            assert getattr(package, name).__module__.startswith(f"sightline.{area}.") if callable(getattr(package, name)) else True, name
    reaching_in = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("components/**/*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sightline.")):
                continue
            parts = node.module.split(".")
            if parts[1] in AREA_PACKAGES and (len(parts) > 2 or any(hasattr(importlib.import_module(node.module), a.name)
                                                                     and inspect.ismodule(getattr(importlib.import_module(node.module), a.name))
                                                                     for a in node.names)):
                reaching_in.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
    assert reaching_in == [], "pages import an area through its face (sightline.<area>):\n" + "\n".join(reaching_in)


def test_no_code_points_at_an_issue_number():
    """Comments and docstrings say why, in their own words: a tracker number means nothing to a reader."""
    pattern = re.compile(r"\b" + "issue" + r"s?\s*#?\d+", re.IGNORECASE)
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in ROOT.rglob("*.py") if ".git" not in p.parts and "artifacts" not in p.parts
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == [], hits

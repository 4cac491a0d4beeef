"""House rules that keep the design honest (DESIGN.md, "Architecture")."""

import ast
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


def test_caching_lives_only_in_the_ui_cache_module():
    users = [str(p.relative_to(ROOT)) for p in list((ROOT / "pages").glob("*.py")) + list((ROOT / "components").glob("*.py"))
             if "st.cache_" in p.read_text(encoding="utf-8")]
    assert users == ["components/cache.py"]


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

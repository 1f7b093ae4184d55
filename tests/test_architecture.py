"""The package's structure holds: layers and no cycles (import-linter), no private name used across modules,
modules of a readable size, methods defined in their classes. These are the rules of DESIGN.md's layout."""
import ast, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "mlnb"
MODULES = sorted(p for p in PKG.rglob("*.py") if p.name != "_modidx.py")

def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    "The absolute module an `from X import ...` names, relative imports resolved."
    if not node.level: return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))

def private_imports() -> list[str]:
    "Every use of another mlnb module's private name: `from mlnb.x import _y`, or `x._y` on an imported module."
    found = []
    for path in MODULES:
        module, tree = _module_name(path), ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, path, node)
                if not source.startswith("mlnb") or source == module: continue
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{module}: from {source} import {a.name}")
                    aliases[a.asname or a.name] = f"{source}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("mlnb"): aliases[a.asname or a.name.split(".")[0]] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{module}: {node.value.id}.{node.attr}")
    return sorted(set(found))

def test_import_contracts_hold():
    "Layers, data/model independence and acyclic packages, checked by import-linter (config: .importlinter)."
    lint = Path(sys.executable).parent / "lint-imports"
    res = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]

def test_no_private_name_crosses_modules():
    assert private_imports() == []

def test_modules_stay_readable():
    long = {_module_name(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 520}
    assert long == {}, f"split these modules (lines): {long}"

def test_methods_live_in_their_classes():
    "nbdev's @patch is for classes mlnb does not own; on mlnb's own classes it hides methods from readers."
    patched = [f"{_module_name(p)}:{n.lineno}" for p in MODULES for n in ast.walk(ast.parse(p.read_text()))
               if isinstance(n, ast.FunctionDef) and any(getattr(d, "id", None) == "patch" for d in n.decorator_list)]
    assert patched == []

def test_notebooks_numbered_uniquely():
    "nbs/ mirrors the packages; each notebook's number is unique, so the numbers give the dependency order."
    numbers = {}
    for nb in (ROOT / "nbs").rglob("[0-9]*.ipynb"):
        numbers.setdefault(nb.name.split("_")[0], []).append(str(nb.relative_to(ROOT)))
    assert {n: p for n, p in numbers.items() if len(p) > 1} == {}

def test_test_modules_have_unique_basenames():
    "pytest imports test modules by basename (rootdir mode): two test files of one name stop the whole run."
    names = {}
    for f in (ROOT / "tests").rglob("test_*.py"): names.setdefault(f.name, []).append(str(f.relative_to(ROOT)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}

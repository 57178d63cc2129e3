"""The package as installed and as laid out: the compiled core is the one the install put in place, the
source tree without its core fails with an ImportError that says what to do, and the module graph keeps
its shape (imports at the top of each module, from the module that defines the name; no import circle).
"""

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pycnn

PACKAGE = Path(pycnn.__file__).resolve().parent
REPO = Path(__file__).resolve().parents[1]


def _is_editable():
    text = importlib.metadata.distribution("pycnn").read_text("direct_url.json")
    return bool(text) and json.loads(text).get("dir_info", {}).get("editable", False)


def test_core_is_the_one_the_install_put_in_place():
    core = Path(pycnn._C.__file__).resolve()
    assert core.name.startswith("_C.") and core.parent.name == "pycnn"
    if _is_editable():
        # pip install -e .: Python files from the source tree, the core from the build directory (a stale
        # in-place build next to the sources would shadow it)
        assert PACKAGE == REPO / "pycnn"
        assert core.parent != PACKAGE, f"an in-place {core.name} in the source tree shadows the build"
    else:
        # pip install .: both from site-packages, recorded in the installed distribution's file list
        dist = importlib.metadata.distribution("pycnn")
        installed = {Path(dist.locate_file(f)).resolve() for f in dist.files}
        assert core in installed and PACKAGE / "__init__.py" in installed
        assert REPO not in PACKAGE.parents, f"testing the source tree {PACKAGE}, not the installed package"


def test_source_tree_without_core_says_what_to_do(tmp_path):
    """A copy of the Python sources beside a csrc/ folder, imported with no site-packages (so no install
    can answer instead): the error names the source tree and the commands to run."""
    src = tmp_path / "pycnn"
    src.mkdir()
    (tmp_path / "csrc").mkdir()
    (src / "__init__.py").write_text((PACKAGE / "__init__.py").read_text())
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import pycnn"
    res = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: pycnn's compiled core (pycnn._C) could not be imported"), res.stderr
    assert str(src) in last and "pip install ." in last and "pip install -e . --no-build-isolation" in last


def _modules():
    """{dotted module name: (parsed AST, is a package)} for every Python module of the installed package,
    and the compiled core (no AST)."""
    out = {"pycnn._C": (ast.Module(body=[], type_ignores=[]), False)}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = (ast.parse(path.read_text()), path.name == "__init__.py")
    return out


def _targets(node, module, is_package, known):
    """The package modules an import statement loads (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "pycnn"]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - node.level + 1]
        name = ".".join(base + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    if name.split(".")[0] != "pycnn":
        return []
    # `from pkg import sub` loads pkg.sub when it is a module; otherwise it takes a name from pkg
    subs = [f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in known]
    return subs if len(subs) == len(node.names) else subs + [name]


def test_imports_are_at_the_top_and_never_of_the_package_root():
    modules = _modules()
    late = []
    for name, (tree, is_package) in modules.items():
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                targets = _targets(node, name, is_package, modules)
                if targets and not (name == "pycnn" and targets == ["pycnn._C"]):  # the guarded core import
                    late.append(f"{name}:{node.lineno} imports {targets}")
            is_import = isinstance(node, (ast.Import, ast.ImportFrom))
            if is_import and name != "pycnn" and "pycnn" in _targets(node, name, is_package, modules):
                late.append(f"{name}:{node.lineno} imports names from the package root")
    assert not late, "\n".join(late)


def test_no_import_circle():
    modules = _modules()
    graph = {}
    for name, (tree, is_package) in modules.items():
        if name in ("pycnn", "pycnn._C"):
            continue  # the root only gathers names from the rest; the core imports nothing
        deps = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(t for t in _targets(node, name, is_package, modules) if t in modules and t != name)
        # a module also runs the __init__ of each package above it; packages re-export their modules
        graph[name] = {d for d in deps if d != "pycnn"}
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if state.get(d) == "open":
                cycle = stack[stack.index(d) :] + [d]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[n] = "done"

    for n in sorted(graph):
        if n not in state:
            visit(n)


def test_public_names_resolve():
    """Everything the root and the subpackages list in __all__ (or re-export) exists."""
    for mod in (pycnn, pycnn.nn, pycnn.optim, pycnn.data, pycnn.train, pycnn.models):
        for n in getattr(mod, "__all__", []):
            assert hasattr(mod, n), f"{mod.__name__}.{n}"
    assert os.path.basename(pycnn.__file__) == "__init__.py"

"""Issue 14's acceptance check: every census name (tools/torch_compat.py) is in pycnn, and some behaviour test
exercises it.

"Exercises" is read statically from the tests' source: a test function (not marked with an unconditional
skip/xfail, nor `cuda`, which a machine without a GPU skips) whose body or parametrize decorator, or a
module-level table or helper that those use (the op tables the tests are parametrized over), references the
name the way the tests write it: `x.name` (any attribute on something that is not an imported module, torch
from pytest.importorskip included) for Tensor methods; `pc.name` / `pycnn.name` for functions and dtypes; `nn.Name` / `pc.nn.Name` for
modules; `F.name` / `nn.functional.name` for the functional API; or a name imported from those modules.
"""

import ast
import functools
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_torch_compat():
    spec = importlib.util.spec_from_file_location("pycnn_torch_compat", ROOT / "tools" / "torch_compat.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tc = _load_torch_compat()

# The dotted pycnn path a namespace's names live under (None: Tensor methods, read as attributes).
_PREFIX = {"Tensor": None, "torch": "pycnn.", "nn": "pycnn.nn.", "nn.functional": "pycnn.nn.functional."}


# ------------------------------------------------------------------------------------------------- the scan


def _import_aliases(tree):
    """Local name -> dotted path, for every import in a file (pc -> pycnn, F -> pycnn.nn.functional,
    Conv2d -> pycnn.nn.Conv2d, np -> numpy, and torch = pytest.importorskip("torch") -> torch)."""
    aliases = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "attr", None) == "importorskip"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
        ):
            aliases[node.targets[0].id] = node.value.args[0].value
        elif isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _mark_name(decorator):
    """'skip' for @pytest.mark.skip(...), 'cuda' for @pytest.mark.cuda, ... (None for other decorators)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "mark":
        return target.attr
    return None


def _skipped_by(marks):
    """Whether marks (decorator or pytestmark expressions) skip a test on a CPU-only machine, unconditionally."""
    for mark in marks:
        name = _mark_name(mark)
        call = mark if isinstance(mark, ast.Call) else None
        conditional = call is not None and (call.args or any(k.arg == "condition" for k in call.keywords))
        if name == "cuda" or name == "skip" or (name == "xfail" and not conditional):
            return True
        if name == "skipif" and call is not None and call.args and getattr(call.args[0], "value", None) is True:
            return True
    return False


def _module_marks(tree):
    """The expressions assigned to a file's `pytestmark` (one mark or a list of them)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            return node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
    return []


def _starts_with_skip(func):
    """A body whose first statement is pytest.skip(...) never runs the rest."""
    first = func.body[0] if func.body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Call)
        and getattr(first.value.func, "attr", None) == "skip"
    )


def _test_functions(tree):
    """(function, enclosing class or None) for each test a file defines at top level or in a Test class."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node, None
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    yield item, node


def _dotted(node, aliases):
    """pc.nn.Conv2d -> 'pycnn.nn.Conv2d' when the chain starts at an imported name; None otherwise."""
    chain = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(chain)])
    return None


def _not_a_tensor(receiver, aliases):
    """Whether x in x.name is plainly something else: what a NumPy/torch/helper function returns
    (np.isnan(y).all()), t.numpy(), a comparison (NumPy's, in today's tests), a dtype or device (.type)."""
    if isinstance(receiver, ast.Compare):
        return True
    if isinstance(receiver, ast.Attribute) and receiver.attr in ("dtype", "device"):
        return True
    if isinstance(receiver, ast.Call):
        path = _dotted(receiver.func, aliases)
        if path is not None and path.split(".")[0] != "pycnn":
            return True
        return isinstance(receiver.func, ast.Attribute) and receiver.func.attr == "numpy"
    return False


def _references(nodes, aliases):
    """(dotted pycnn paths, attribute names on non-modules) that the code under `nodes` refers to.

    getattr(obj, name) with a literal name reads as obj.name; with a variable name (the tests' op tables:
    @parametrize("op", ["sum", "mean"]) ... getattr(pc, op)), as obj.s for every identifier string s in
    `nodes`, the values that variable is drawn from."""
    dotted, attrs, fetched_from = set(), set(), []
    strings = set()
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Attribute):
                path = _dotted(node, aliases)
                if path is not None:
                    dotted.add(path)
                elif not _not_a_tensor(node.value, aliases):
                    attrs.add(node.attr)
            elif isinstance(node, ast.Name) and node.id in aliases:
                dotted.add(aliases[node.id])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                strings.add(node.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr" and len(node.args) >= 2:
                name = node.args[1]
                literal = isinstance(name, ast.Constant) and isinstance(name.value, str)
                fetched_from.append((_dotted(node.args[0], aliases), [name.value] if literal else None))
    for path, names in fetched_from:
        for name in strings if names is None else names:
            if path is None:
                attrs.add(name)
            else:
                dotted.add(f"{path}.{name}")
    return dotted, attrs


def _module_definitions(tree):
    """Module-level name -> the statements that define or fill it: assignments (TABLE = ..., TABLE[k] = ...),
    TABLE.update(...)/append(...) calls, functions and classes."""
    defs = {}
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                t = t.value if isinstance(t, ast.Subscript) else t
                targets += [e.id for e in ast.walk(t) if isinstance(e, ast.Name)]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                targets = [func.value.id]
        for name in targets:
            defs.setdefault(name, []).append(node)
    return defs


def _reachable(nodes, defs):
    """nodes plus the module-level tables and helpers they use, directly or through one another."""
    out, seen, todo = list(nodes), set(), list(nodes)
    while todo:
        for node in ast.walk(todo.pop()):
            if isinstance(node, ast.Name) and node.id in defs and node.id not in seen:
                seen.add(node.id)
                out += defs[node.id]
                todo += defs[node.id]
    return out


def _scan(tree):
    """(dotted paths, attribute names) that the running tests of one parsed file refer to."""
    dotted, attrs = set(), set()
    if _skipped_by(_module_marks(tree)):
        return dotted, attrs
    aliases = _import_aliases(tree)
    defs = _module_definitions(tree)
    for func, cls in _test_functions(tree):
        if _skipped_by(func.decorator_list) or (cls is not None and _skipped_by(cls.decorator_list)):
            continue
        if _starts_with_skip(func):
            continue
        params = [d for d in func.decorator_list if _mark_name(d) == "parametrize"]
        d, a = _references(_reachable([*func.body, *params], defs), aliases)
        dotted |= d
        attrs |= a
    return dotted, attrs


@functools.cache
def _exercised():
    """(dotted paths, attribute names) referenced by the tests that run: every tests/test_*.py but this one."""
    dotted, attrs = set(), set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        if path.name != Path(__file__).name:
            d, a = _scan(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            dotted |= d
            attrs |= a
    return dotted, attrs


def _untested(namespace):
    dotted, attrs = _exercised()
    names = tc.NAMESPACES[namespace][0]
    prefix = _PREFIX[namespace]
    if prefix is None:
        return [n for n in names if n not in attrs]
    return [n for n in names if prefix + n not in dotted]


# ----------------------------------------------------------------------------------------------- the census


@pytest.mark.parametrize("namespace", list(tc.NAMESPACES))
def test_census_names_exist_in_pycnn(namespace):
    missing = tc.missing_from_pycnn(namespace)
    assert not missing, f"pycnn lacks {len(missing)} census names of {namespace}: {' '.join(missing)}"


@pytest.mark.parametrize("namespace", list(tc.NAMESPACES))
def test_census_names_are_exercised_by_tests(namespace):
    untested = _untested(namespace)
    form = tc.NAMESPACES[namespace][2]
    assert not untested, (
        f"no running test in tests/test_*.py references these {len(untested)} census names of {namespace} "
        f"(written as {form}): {' '.join(untested)}"
    )


def test_census_lists_have_the_issue_counts():
    counts = {ns: len(names) for ns, (names, _, _) in tc.NAMESPACES.items()}
    assert counts == {"Tensor": 136, "torch": 114, "nn": 66, "nn.functional": 42}
    for ns, (names, _, _) in tc.NAMESPACES.items():
        assert len(set(names)) == len(names), [n for n in names if names.count(n) > 1]
        assert set(tc.ISSUE_MISSING[ns]) <= set(names)
    before = {ns: len(names) - len(tc.ISSUE_MISSING[ns]) for ns, (names, _, _) in tc.NAMESPACES.items()}
    assert before == {"Tensor": 75, "torch": 56, "nn": 45, "nn.functional": 32}


def test_no_census_name_is_left_out():
    clash = [(n, tc.left_out_reason(n)) for names, _, _ in tc.NAMESPACES.values() for n in names]
    assert [c for c in clash if c[1] is not None] == []


def test_scan_reads_the_test_forms():
    # The scan itself, on a made-up test file: what counts, and what a skip hides.
    source = """
import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn
from pycnn.nn import Conv2d
import numpy as np

TABLE = {"mish": lambda x: F.mish(x)}
TABLE["hardtanh"] = lambda x: x.clamp_(-1, 1)

def _helper():
    return nn.Embedding(3, 2)

def test_a():
    x = pc.zeros(2)
    y = np.sort(x).argsort() + pc.flatten(x).argsort()
    F.relu(nn.Linear(1, 1)(x)).cumsum(0)
    Conv2d(1, 1, 1)
    _helper()

@pytest.mark.parametrize("name", list(TABLE))
def test_table(name):
    pass

@pytest.mark.skip(reason="no")
def test_skipped():
    pc.eye(2).flip(0)

@pytest.mark.xfail(sys.platform == "win32", reason="conditional")
def test_conditional():
    getattr(pc.ones(1), "round")()

@pytest.mark.parametrize("op", ["amax", "amin"])
def test_by_name(op):
    getattr(pc, op)(pc.ones(2))

def test_skips_at_once():
    pytest.skip("not yet")
    pc.tril(x)

def test_parity():
    torch = pytest.importorskip("torch")
    torch.topk(torch.ones(3), 2)
    assert np.isnan(np.zeros(2)).any() and (np.ones(2) == 1).all() and pc.ones(2).numpy().prod() == 1
    assert pc.zeros(1).dtype.type is not None and pc.zeros(2).unbind(0)
"""
    dotted, attrs = _scan(ast.parse(source))
    assert {"pycnn.zeros", "pycnn.nn.functional.relu", "pycnn.nn.Linear", "pycnn.nn.Conv2d", "pycnn.ones"} <= dotted
    assert {"pycnn.nn.Embedding", "pycnn.nn.functional.mish", "pycnn.amax", "pycnn.amin"} <= dotted
    assert {"argsort", "cumsum", "round", "clamp_"} <= attrs
    assert "sort" not in attrs and "flip" not in attrs and "topk" not in attrs and "torch.topk" in dotted
    assert not {"any", "all", "prod", "type"} & attrs and "unbind" in attrs and "pycnn.flatten" in dotted
    assert "pycnn.eye" not in dotted and "pycnn.tril" not in dotted


def test_census_names_exist_in_torch():
    torch = pytest.importorskip("torch")
    spaces = {"Tensor": torch.Tensor, "torch": torch, "nn": torch.nn, "nn.functional": torch.nn.functional}
    for ns, (names, _, _) in tc.NAMESPACES.items():
        assert [n for n in names if not hasattr(spaces[ns], n)] == [], ns


def test_torch_compat_doc_is_up_to_date():
    pytest.importorskip("torch")
    doc = (ROOT / "docs" / "torch-compat.md").read_text(encoding="utf-8")
    made_with = re.search(r"with torch (\S+);", doc).group(1)
    if made_with != tc.torch_version():
        pytest.skip(f"docs/torch-compat.md lists torch {made_with}'s names; torch {tc.torch_version()} is installed")
    assert doc == tc.render(), "docs/torch-compat.md is out of date: python tools/torch_compat.py --write it"

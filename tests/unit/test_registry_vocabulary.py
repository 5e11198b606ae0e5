"""No MLflow tag or alias name is spelled outside ``retrainer/registry/tags.py``.

Reads the string literals of every module in src/, dags/ and plugins/ (docstrings aside)
and flags:

- a ``retrainer.<name>`` that is a tag of the vocabulary, starts with one of its prefixes,
  or is no module of the package (an unregistered tag); ``retrainer.config`` and friends
  are module paths, ``retrainer.yaml`` a file;
- a tag name written without the prefix where the registry expects one (``gate.decision``
  anywhere; any string literal as a key of the tags given to ``set_tags``/``start_model_run``,
  as the name in ``set_model_version_tag``/``set_tag``, or looked up in a ``tags`` mapping);
- an alias spelled as a string in an alias call.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from retrainer.registry import tags as vocabulary
from tests.unit.source_scan import docstring_ids

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "retrainer"
HOME = PACKAGE / "registry" / "tags.py"

_CONSTANTS = {
    name: value
    for name, value in vars(vocabulary).items()
    if name.isupper() and isinstance(value, str) and name != "PREFIX"
}
PREFIX = vocabulary.PREFIX
TAG_PREFIXES = tuple(v for k, v in _CONSTANTS.items() if k.endswith("_PREFIX"))
TAG_NAMES = {v for k, v in _CONSTANTS.items() if v.startswith(PREFIX) and v not in TAG_PREFIXES}
BARE_NAMES = {v.removeprefix(PREFIX) for v in TAG_NAMES}
BARE_DOTTED = {name for name in BARE_NAMES if "." in name}
BARE_PREFIXES = tuple(p.removeprefix(PREFIX) for p in TAG_PREFIXES if "." in p.removeprefix(PREFIX))
ALIASES = {vocabulary.CHAMPION, vocabulary.CHALLENGER}
# Module paths and files of the package: ``retrainer.<module>...`` is not a tag.
MODULES = {p.stem for p in PACKAGE.glob("*.py")} | {
    p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()
}
FILES = {"yaml"}
# ``retrainer.`` identifiers that are not MLflow tags (a format marker inside a JSON artifact).
NOT_TAGS = {"retrainer.cbpe_calibrator"}

# Calls that take tag names: where to find the name (positional index or keyword).
TAG_DICT_CALLS = {"set_tags": 3, "start_model_run": None, "create_run": None}
TAG_DICT_KEYWORD = "tags"
TAG_NAME_CALLS = {"set_model_version_tag": 2, "set_tag": 1, "set_registered_model_tag": 1}
ALIAS_CALLS = {
    "get_model_version_by_alias": 1,
    "set_registered_model_alias": 1,
    "delete_registered_model_alias": 1,
    "alias_version": 2,
}
NAMESPACED = re.compile(r"(?<![\w.])retrainer\.[A-Za-z_][\w.]*")


def _namespaced_problem(text: str) -> str | None:
    for token in NAMESPACED.findall(text):
        if token.rstrip(".") in TAG_NAMES or token.startswith(TAG_PREFIXES):
            return f"tag {token!r}"
        if token in NOT_TAGS:
            continue
        if token.removeprefix(PREFIX).split(".")[0] in MODULES | FILES:
            continue
        return f"unregistered tag {token!r} (add it to registry/tags.py)"
    return None


def _strings(node: ast.AST | None) -> list[ast.Constant]:
    """String constants of an expression that name something (not deeper calls)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.JoinedStr):
        return [v for v in node.values if isinstance(v, ast.Constant)]
    return []


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _arg(call: ast.Call, index: int | None, keyword: str | None) -> ast.AST | None:
    if index is not None and len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _is_tags(node: ast.AST) -> bool:
    """``mv.tags`` or a variable named ``tags``."""
    return (isinstance(node, ast.Attribute) and node.attr == "tags") or (
        isinstance(node, ast.Name) and node.id == "tags"
    )


def _context_problems(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    out: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in TAG_DICT_CALLS or (
                name and any(k.arg == TAG_DICT_KEYWORD for k in node.keywords)
            ):
                given = _arg(node, TAG_DICT_CALLS.get(name or ""), TAG_DICT_KEYWORD)
                if isinstance(given, ast.Dict):
                    for key in given.keys:
                        out += [(s, f"tag name {s.value!r} in {name}()") for s in _strings(key)]
            if name in TAG_NAME_CALLS:
                given = _arg(node, TAG_NAME_CALLS[name], "key")
                out += [(s, f"tag name {s.value!r} in {name}()") for s in _strings(given)]
            if name in ALIAS_CALLS:
                given = _arg(node, ALIAS_CALLS[name], "alias")
                out += [(s, f"alias {s.value!r} in {name}()") for s in _strings(given)]
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and _is_tags(func.value):
                given = node.args[0] if node.args else None
                out += [(s, f"tag name {s.value!r} read from tags") for s in _strings(given)]
        elif isinstance(node, ast.Subscript) and _is_tags(node.value):
            out += [(s, f"tag name {s.value!r} read from tags") for s in _strings(node.slice)]
        elif isinstance(node, ast.Compare) and any(_is_tags(c) for c in node.comparators):
            out += [(s, f"tag name {s.value!r} looked up in tags") for s in _strings(node.left)]
    return out


def problems(source: str) -> list[str]:
    """Every spelled tag or alias name in one module's source, as ``line: what``."""
    tree = ast.parse(source)
    skip = docstring_ids(tree)
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in skip:
            continue
        text = node.value
        what = _namespaced_problem(text)
        if what is None and (text in BARE_DOTTED or text.startswith(BARE_PREFIXES)):
            what = f"tag {text!r} without its prefix"
        if what:
            found.append((node, what))
    found += [(n, w) for n, w in _context_problems(tree) if id(n) not in skip]
    seen = set()
    out = []
    for node, what in found:
        line = f"{getattr(node, 'lineno', '?')}: {what}"
        if (id(node), what) not in seen:
            seen.add((id(node), what))
            out.append(line)
    return sorted(set(out))


def _sources() -> list[Path]:
    files = [
        *PACKAGE.rglob("*.py"),
        *(REPO / "dags").rglob("*.py"),
        *(REPO / "plugins").rglob("*.py"),
    ]
    return sorted(p for p in files if p != HOME)


def test_no_tag_or_alias_name_is_spelled_outside_the_vocabulary() -> None:
    spelled = {
        str(path.relative_to(REPO)): found
        for path in _sources()
        if (found := problems(path.read_text(encoding="utf-8")))
    }
    assert spelled == {}, "use the constants of retrainer.registry.tags"


@pytest.mark.parametrize(
    "line",
    [
        'x = "retrainer.gate.decision"',
        'x = mv.tags.get("retrainer.batches")',
        'x = f"tags.`retrainer.airflow_run_id` = {run}"',
        'client.set_tag(run, f"retrainer.batch.{step}", b)',
        'x = "retrainer.drift"',
        'x = "retrainer.new_thing"',
        'set_tags(client, m, v, {"gate.decision": d})',
        'set_tags(client, m, v, {"trigger": t})',
        'start_model_run(c, s, m, run_name="r", kind="k", tags={"batch_id": b})',
        'client.set_model_version_tag(m, v, "approval", "pending")',
        'x = tags.get("promoted_at")',
        'x = tags["retrainer.run_id"]',
        'x = "retrainer.promoted_at" in tags',
        'x = {"shadow.reason": r}',
        'x = f"gate.rule.{name}"',
        'client.get_model_version_by_alias(m, "champion")',
        'client.set_registered_model_alias(m, "challenger", v)',
    ],
)
def test_the_check_finds_a_spelled_name(line: str) -> None:
    assert problems(line), line


@pytest.mark.parametrize(
    "line",
    [
        "from retrainer.config import load_model_config",
        'importlib.import_module("retrainer.orchestration.alerts")',
        'x = "retrainer.drift.registry"',
        'x = "Folder with retrainer.yaml and models/."',
        'x = {"kind": "retrainer.cbpe_calibrator"}',
        "x = mv.tags.get(GATE_DECISION)",
        "set_tags(client, m, v, {TRIGGER: t, **context_tags(ctx)})",
        'record_event(s, m, "promote", {"version": v, "reason": r, "alias": CHAMPION})',
        'x = {"champion": 1, "challenger": 2, "trigger": "drift"}',
        'DAG(dag_id="d", tags=["retrainer", name])',
        'def f():\n    """Writes ``retrainer.gate.decision`` and ``gate.reason``."""',
        'x = "a message from retrainer."',
    ],
)
def test_the_check_leaves_other_strings_alone(line: str) -> None:
    assert problems(line) == [], line

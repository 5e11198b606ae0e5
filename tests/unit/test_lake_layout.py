"""The lake's layout is pinned here, and spelled out nowhere but ``retrainer.lake``."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from retrainer.lake import keys
from tests.unit.source_scan import docstring_ids

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LAKE = ROOT / "src" / "retrainer" / "lake"
SCANNED = ("src", "dags", "plugins")
# A lake prefix at the start of a string or right after a "/" or quote: a key being built.
PREFIX = re.compile(
    r"""(?:^|[/"'`])\s*(?:incoming|batches|quarantine|labels|predictions|reports|ledger|"""
    r"""claims|locks|shadow|datasets|profiles)/"""
)


def test_keys_are_the_layout_byte_for_byte() -> None:
    at = datetime(2026, 11, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert keys.incoming("m") == "incoming/m"
    assert keys.incoming("m", keys.LABELS_ZONE) == "incoming/m/labels"
    assert keys.incoming_file("m", "b1", ".csv") == "incoming/m/b1.csv"
    assert keys.incoming_file("m", "b1", ".parquet", "labels") == "incoming/m/labels/b1.parquet"
    assert keys.batches("m") == "batches/m/"
    assert keys.batch_dir("m", "b1") == "batches/m/b1"
    assert keys.batch_data("m", "b1") == "batches/m/b1/data.parquet"
    assert keys.batch_meta("m", "b1") == "batches/m/b1/meta.json"
    assert keys.quarantined("m") == "quarantine/m/"
    assert keys.quarantine("m", "b1") == "quarantine/m/b1"
    assert keys.labels_quarantine("m", "b1") == "quarantine/m/labels-b1"
    assert keys.labels("m") == "labels/m/"
    assert keys.labels_file("m", "b1") == "labels/m/b1.parquet"
    assert keys.prediction_log("m", "b1") == "predictions/m/b1.parquet"
    assert keys.reports("m") == "reports/m/"
    assert keys.report_dir("m", "b1") == "reports/m/b1"
    assert [
        keys.report("m", "b1", name)
        for name in (
            keys.DRIFT_HTML,
            keys.DRIFT_JSON,
            keys.MONITOR,
            keys.PERFORMANCE,
            keys.LABELS_STATE,
            keys.TRIGGER,
        )
    ] == [
        "reports/m/b1/drift.html",
        "reports/m/b1/drift.json",
        "reports/m/b1/monitor.json",
        "reports/m/b1/performance.json",
        "reports/m/b1/labels-state.json",
        "reports/m/b1/trigger.json",
    ]
    assert (keys.VALIDATION_RESULT, keys.SUMMARY, keys.DATA_DOCS, keys.QUARANTINED_ROWS) == (
        "validation_result.json",
        "summary.txt",
        "data_docs.html",
        "rows.parquet",
    )
    assert keys.training_data("m", "abc") == "datasets/m/abc"
    assert keys.shadow("m", "4") == "shadow/m/v4/"
    assert keys.shadow_result("m", "4", "b1") == "shadow/m/v4/b1.json"
    assert keys.ledger("m") == "ledger/m/"
    assert keys.ledger_entry("m", at, "promote") == "ledger/m/20261102T030405678901Z-promote.json"
    assert keys.champion_claim("m", "1-2") == "locks/m/champion-1-2.json"


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal and f-string (placeholders as ``{}``), docstrings left out."""
    skip = docstring_ids(tree)
    parts: set[int] = set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = ""
            for value in node.values:
                parts.add(id(value))
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    text += value.value
                else:
                    text += "{}"
            out.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in parts
        ):
            out.append((node.lineno, node.value))
    return out


def lake_keys_outside_lake() -> list[str]:
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if LAKE in path.parents:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for line, text in _strings(tree):
                if PREFIX.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    return found


def test_no_lake_key_is_spelled_outside_the_lake_module() -> None:
    found = lake_keys_outside_lake()
    assert not found, "build these keys with retrainer.lake.keys:\n" + "\n".join(found)


def test_the_check_finds_keys_in_strings_and_f_strings_but_not_in_docstrings() -> None:
    source = '''
"""Writes ``reports/<m>/<batch>/drift.json`` and /reports/ too."""
def f(model, batch):
    """Reads "batches/<m>/"."""
    a = f"reports/{model}/{batch}/monitor.json"
    b = "x/quarantine/" + model
    c = f"{root}/labels/{model}"
    d = "drift/report.html"  # an MLflow artifact path, not a lake key
    return a, b, c, d
'''
    hits = [text for _, text in _strings(ast.parse(source)) if PREFIX.search(text)]
    assert sorted(hits) == ["reports/{}/{}/monitor.json", "x/quarantine/", "{}/labels/{}"]


def _module_imports(path: Path) -> set[str]:
    """``retrainer`` modules a file imports when it is imported (not in functions or
    ``TYPE_CHECKING`` blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("retrainer"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("retrainer"))
    return found


def _closure(start: str) -> set[str]:
    src = ROOT / "src"
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        base = src / Path(*name.split("."))
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if not path.exists():
            continue  # a name imported from a module, not a module
        seen.add(name)
        parents = [".".join(name.split(".")[:i]) for i in range(2, name.count(".") + 1)]
        todo += [*_module_imports(path), *parents]
    return seen


def test_the_lake_depends_on_nothing_but_errors_and_limits() -> None:
    assert _closure("retrainer.lake") <= {
        "retrainer.errors",
        "retrainer.limits",
        "retrainer.lake",
        "retrainer.lake.catalogue",
        "retrainer.lake.keys",
        "retrainer.lake.records",
    }


def test_monitoring_and_training_do_not_import_each_other() -> None:
    training, monitoring = _closure("retrainer.training"), _closure("retrainer.monitoring")
    assert not any(m.startswith("retrainer.monitoring") for m in training)
    assert not any(m.startswith("retrainer.training") for m in monitoring)

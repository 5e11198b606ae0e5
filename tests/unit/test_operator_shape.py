"""Operators keep one shape: ``__init__`` stores arguments, ``execute`` is a few lines.

Parsed with ``ast`` (nothing is imported), so the rule holds for every class in
``retrainer/orchestration`` that derives from an Airflow operator, sensor or our base.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ORCHESTRATION = Path(__file__).parents[2] / "src" / "retrainer" / "orchestration"
MAX_LINES = 15
WORK_METHODS = {"execute", "poke", "execute_complete"}
# Bases that make a class an operator (directly or through our base classes).
OPERATOR_BASES = {
    "BaseOperator",
    "BaseSensorOperator",
    "ApprovalOperator",
    "ModelOperator",
    "ModelTask",
}


def _operator_classes() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for path in sorted(ORCHESTRATION.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            }
            if bases & OPERATOR_BASES:
                found.append((f"{path.name}:{node.name}", node))
    return found


def _body(method: ast.FunctionDef) -> list[ast.stmt]:
    body = list(method.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def _stores_arguments(statement: ast.stmt) -> bool:
    """``super().__init__(...)``, ``self.x = ...`` or ``kwargs[...]``/``kwargs.setdefault``."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute) and func.attr == "__init__":
            return isinstance(func.value, ast.Call) and getattr(func.value.func, "id", "") == (
                "super"
            )
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "setdefault"
            and getattr(func.value, "id", "") == "kwargs"
        )
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") == "self":
            # Stored as given (or as a plain str/int/bool of it): no work in the constructor.
            value = statement.value
            if isinstance(value, ast.Call):
                return getattr(value.func, "id", "") in {"str", "int", "bool", "float"} and all(
                    isinstance(a, ast.Name | ast.Constant) for a in value.args
                )
            return isinstance(value, ast.Name | ast.Constant | ast.Attribute)
        if isinstance(target, ast.Subscript) and getattr(target.value, "id", "") == "kwargs":
            return isinstance(statement.value, ast.Constant)
    return False


CLASSES = _operator_classes()


def test_finds_the_operators() -> None:
    names = {name.split(":")[1] for name, _ in CLASSES}
    assert {"ValidateBatchOperator", "PromoteChallengerOperator", "WaitForApprovalSensor"} <= names


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_work_methods_are_short(name: str, cls: ast.ClassDef) -> None:
    for method in _methods(cls).values():
        if method.name not in WORK_METHODS:
            continue
        body = _body(method)
        lines = (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1
        assert lines <= MAX_LINES, (
            f"{name}.{method.name} has {lines} lines (max {MAX_LINES}): "
            "move the work into a domain function"
        )


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_init_only_stores_arguments(name: str, cls: ast.ClassDef) -> None:
    init = _methods(cls).get("__init__")
    if init is None:
        return
    for statement in _body(init):
        assert _stores_arguments(statement), (
            f"{name}.__init__ line {statement.lineno} does work: "
            "an operator's constructor only stores its arguments"
        )


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_model_work_methods_map_errors(name: str, cls: ast.ClassDef) -> None:
    """Model tasks turn retrainer's errors into skip/fail through ``airflow_errors``."""
    bases = {getattr(b, "id", "") for b in cls.bases}
    if not bases & {"ModelOperator", "ModelTask"}:
        return
    for method in _methods(cls).values():
        if method.name in WORK_METHODS:
            decorators = {ast.unparse(d) for d in method.decorator_list}
            assert "airflow_errors()" in decorators, f"{name}.{method.name} lacks @airflow_errors()"

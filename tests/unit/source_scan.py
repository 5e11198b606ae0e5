"""Shared by the tests that scan retrainer's source for spelled lake keys and tag names."""

from __future__ import annotations

import ast


def docstring_ids(tree: ast.AST) -> set[int]:
    """Ids of the docstring nodes: prose about a name, not code that spells it."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found

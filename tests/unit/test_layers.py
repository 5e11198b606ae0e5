"""The package's layers hold: import-linter's contracts in pyproject.toml are kept.

Two contracts (see ``[tool.importlinter]``): domain modules never import Airflow, the
orchestration layer, the CLI or the dev tools; and no package has an import cycle between
its modules (imports inside functions count, ``TYPE_CHECKING`` ones do not).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    # In a subprocess: import-linter configures logging, which would silence the loggers
    # of modules later tests assert on. Run from src/ so the graph is the source tree's.
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=ROOT / "src",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout
    assert "KEPT" in done.stdout

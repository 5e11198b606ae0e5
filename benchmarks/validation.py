"""Validation throughput and memory on a large batch, against reading it (same run).

Generates a batch (default 1M rows: 20 numeric and 5 categorical columns, plus an id and
the label), learns the suite from a 200k-row reference, then measures in fresh
subprocesses (so each peak RSS belongs to one step):

- floor: reading the Parquet file into pandas;
- validate (clean): read + the Great Expectations suite + the severity decision;
- validate (dirty): the same on a copy with 0.1% impossible values, new categories and
  repeated ids, so the exact row masks and the quarantine split are paid for too.

Each validation step is timed twice in its process: ``cold`` includes GX's first-run
warm-up (what one Airflow task pays), ``warm`` is the steady state of a long-lived worker.
Usage: python benchmarks/validation.py [--rows 1000000] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NUMERIC = [f"n{i:02d}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
LEVELS = ["a", "b", "c", "d"]


def generate(rows: int, seed: int, *, dirty: bool = False):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"row_id": np.arange(rows)}
    for name in NUMERIC:
        data[name] = rng.normal(0.0, 1.0, rows)
    for name in CATEGORICAL:
        data[name] = pd.Categorical(rng.choice(LEVELS, rows, p=[0.4, 0.3, 0.2, 0.1]))
    data["y"] = rng.integers(0, 2, rows)
    frame = pd.DataFrame(data)
    if dirty:
        bad = rng.choice(rows, rows // 1000, replace=False)
        frame.loc[bad[0::3], "n00"] = 1e6
        frame["c0"] = frame["c0"].cat.add_categories(["zz"])
        frame.loc[bad[1::3], "c0"] = "zz"
        frame.loc[bad[2::3], "row_id"] = 0
    return frame


STEP = """
import json, resource, sys, time
import pandas as pd
from retrainer.config import ModelConfig
from retrainer.validation import SuiteSpec, apply_severities, validate_frame
BATCH, SUITE, CONFIG, WHAT = sys.argv[1:5]
config = ModelConfig.model_validate(json.loads(open(CONFIG).read()))
spec = SuiteSpec.from_json(open(SUITE).read())

def run():
    frame = pd.read_parquet(BATCH)
    if WHAT == "floor":
        return "read"
    result = validate_frame(frame, spec, require_target=False)
    outcome = apply_severities(frame, result, spec, config)
    return f"{outcome.status} ({outcome.quarantined_rows} rows held)"

times = []
for _ in range(1 if WHAT == "floor" else 2):
    start = time.perf_counter()
    outcome = run()
    times.append(time.perf_counter() - start)
print(json.dumps({"cold": times[0], "warm": times[-1], "outcome": outcome,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(what: str, batch: Path, folder: Path) -> dict[str, float | str]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            STEP,
            str(batch),
            str(folder / "suite.json"),
            str(folder / "config.json"),
            what,
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"step {what} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from retrainer.config import ModelConfig
    from retrainer.validation import build_suite_spec

    raw_config = {
        "name": "bench",
        "data": {"id_column": "row_id"},
        "numeric_features": NUMERIC,
        "categorical_features": CATEGORICAL,
        "target": {"column": "y"},
    }
    config = ModelConfig.model_validate(raw_config)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(raw_config))
        reference = generate(200_000, 0)
        (folder / "suite.json").write_text(build_suite_spec(reference, config).to_json())
        started = time.perf_counter()
        clean, dirty = folder / "clean.parquet", folder / "dirty.parquet"
        generate(args.rows, 1).to_parquet(clean, index=False)
        generate(args.rows, 1, dirty=True).to_parquet(dirty, index=False)
        print(
            f"generated 2 x {args.rows:,} rows x 27 columns in "
            f"{time.perf_counter() - started:.1f} s ({clean.stat().st_size / 2**20:.0f} MiB each)"
        )
        results = {
            "floor (read)": measure("floor", clean, folder),
            "validate clean": measure("validate", clean, folder),
            "validate dirty": measure("validate", dirty, folder),
        }
    floor = float(results["floor (read)"]["cold"])
    print(f"{'step':<16} {'cold s':>7} {'warm s':>7} {'x read':>7} {'peak RSS MiB':>13}  outcome")
    for step, r in results.items():
        cold, warm = float(r["cold"]), float(r["warm"])
        print(
            f"{step:<16} {cold:>7.2f} {warm:>7.2f} {warm / floor:>7.2f} "
            f"{float(r['peak_rss_mb']):>13.0f}  {r['outcome']}"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, **results}, indent=2))


if __name__ == "__main__":
    main()

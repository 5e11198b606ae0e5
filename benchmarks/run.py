"""Throughput, memory and decisions of the drift check, against a floor measured in the same run.

For each size (default 1M and 5M rows) it generates a batch of 20 numeric and 5
categorical columns, 6 of them shifted (n00-n03 by one standard deviation, c0 and c1 to
reversed category shares), and writes it as Parquet in row groups of 1M rows. Then, in
fresh subprocesses (so peak RSS belongs to one step):

- floor: read the feature columns with pyarrow and compute a numpy histogram of every
  numeric column (as many bins as the reference, over the reference's range) and the value
  counts of every categorical one: the least any drift check must do;
- drift: load the reference profile JSON, profile the file chunk by chunk on its bins,
  decide with the default ``DriftConfig`` and compare the drifted features with the truth;
- validation (``--validation``): read + the Great Expectations suite.

Prints wall time (the best of ``--repeats`` runs, default 3: the host is shared), peak RSS,
the ratio to the floor and the decisions; ``--json`` writes
the numbers too. Usage: python benchmarks/run.py [--rows 1000000 5000000] [--json out.json]
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
SHIFTED = {"n00", "n01", "n02", "n03", "c0", "c1"}
PART_ROWS = 1_000_000


def generate(rows: int, seed: int, shifted: bool):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {}
    for name in NUMERIC:
        shift = 1.0 if shifted and name in SHIFTED else 0.0
        data[name] = rng.normal(shift, 1.0, rows)
    for name in CATEGORICAL:
        p = [0.4, 0.3, 0.2, 0.1] if not (shifted and name in SHIFTED) else [0.1, 0.2, 0.3, 0.4]
        data[name] = pd.Categorical.from_codes(rng.choice(4, rows, p=p), ["a", "b", "c", "d"])
    data["y"] = rng.integers(0, 2, rows)
    return pd.DataFrame(data)


def write_batch(path: Path, rows: int) -> None:
    """Write ``rows`` shifted rows part by part, so the generator never holds them all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for seed, start in enumerate(range(0, rows, PART_ROWS), start=1):
        table = pa.Table.from_pandas(
            generate(min(PART_ROWS, rows - start), seed, shifted=True), preserve_index=False
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=PART_ROWS)
    assert writer is not None
    writer.close()


# Each step: (imports, work). Only the work is timed: import costs are paid once per
# worker process, not per batch.
STEPS = {
    "floor": (
        "import numpy as np, pyarrow.compute as pc, pyarrow.parquet as pq\n"
        "from retrainer.drift import NumericProfile, Profile",
        "ref = Profile.from_json(open(PROFILE).read())\n"
        "t = pq.read_table(BATCH, columns=NUMERIC + CATEGORICAL)\n"
        "for n in NUMERIC:\n"
        "    p = ref.features[n]\n"
        "    np.histogram(t.column(n).to_numpy(), bins=len(p.counts), range=(p.min, p.max))\n"
        "for n in CATEGORICAL:\n"
        "    pc.value_counts(t.column(n).combine_chunks())\n"
        "RESULT = {}",
    ),
    "drift": (
        "from retrainer.config import DriftConfig\n"
        "from retrainer.drift import Profile, detect_drift, profile_file",
        "ref = Profile.from_json(open(PROFILE).read())\n"
        "r = detect_drift(ref, profile_file(BATCH, ref), DriftConfig())\n"
        "found = {f.feature for f in r.drifted_features}\n"
        "RESULT = {'drift': r.drift, 'found': sorted(found & SHIFTED),\n"
        "          'missed': sorted(SHIFTED - found), 'false_alarms': sorted(found - SHIFTED)}",
    ),
    "validation": (
        "import pandas as pd\n"
        "from retrainer.validation import SuiteSpec, validate_frame\n"
        "from retrainer.validation.runner import _batch_definition\n"
        "_batch_definition()",
        "spec = SuiteSpec.from_json(open(SUITE).read())\n"
        "f = pd.read_parquet(BATCH)\n"
        "r = validate_frame(f, spec, require_target=False)\n"
        "RESULT = {'success': r.success}",
    ),
}

# The best of REPEATS runs: the host is shared, and other processes only ever add time.
HARNESS = """
import json, resource, sys, time
BATCH, PROFILE, SUITE = sys.argv[1:4]
NUMERIC, CATEGORICAL, SHIFTED = {numeric!r}, {categorical!r}, {shifted!r}
{imports}
TIMES = []
for _ in range({repeats}):
    START = time.perf_counter()
{work}
    TIMES.append(time.perf_counter() - START)
print(json.dumps({{"seconds": min(TIMES), "runs": TIMES,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  **RESULT}}))
"""


def measure(step: str, batch: Path, profile: Path, suite: Path, repeats: int) -> dict[str, object]:
    imports, work = STEPS[step]
    code = HARNESS.format(
        imports=imports,
        work="\n".join("    " + line for line in work.splitlines()),
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        shifted=SHIFTED,
        repeats=repeats,
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(batch), str(profile), str(suite)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--validation", action="store_true", help="also time the GX suite")
    parser.add_argument("--repeats", type=int, default=3, help="report the best of N runs")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from retrainer.config import ModelConfig
    from retrainer.drift import build_reference_profile
    from retrainer.validation import build_suite_spec

    config = ModelConfig.model_validate(
        {
            "name": "bench",
            "numeric_features": NUMERIC,
            "categorical_features": CATEGORICAL,
            "target": {"column": "y"},
        }
    )
    steps = ["floor", "drift", *(["validation"] if args.validation else [])]
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = generate(200_000, 0, shifted=False)
        (folder / "profile.json").write_text(
            build_reference_profile(reference, NUMERIC, CATEGORICAL).to_json()
        )
        (folder / "suite.json").write_text(build_suite_spec(reference, config).to_json())
        for rows in args.rows:
            batch = folder / f"batch-{rows}.parquet"
            started = time.perf_counter()
            write_batch(batch, rows)
            print(
                f"generated {rows:,} rows x 25 columns in {time.perf_counter() - started:.1f} s "
                f"({batch.stat().st_size / 2**20:.0f} MiB Parquet)",
                flush=True,
            )
            results = {
                s: measure(s, batch, folder / "profile.json", folder / "suite.json", args.repeats)
                for s in steps
            }
            batch.unlink()
            report.append({"rows": rows, **results})
            floor = float(results["floor"]["seconds"])  # type: ignore[arg-type]
            print(f"{'step':<11} {'seconds':>8} {'peak RSS MiB':>13} {'x floor':>8}  decisions")
            for step, r in results.items():
                decisions = ""
                if step == "drift":
                    decisions = (
                        f"found {len(r['found'])}/6, missed {r['missed']}, "  # type: ignore[arg-type]
                        f"false alarms {r['false_alarms']}"
                    )
                seconds = float(r["seconds"])  # type: ignore[arg-type]
                print(
                    f"{step:<11} {seconds:>8.2f} {r['peak_rss_mb']:>13.0f} "
                    f"{seconds / floor:>8.2f}  {decisions}"
                )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Building a reference profile (what training does) against a floor, at 1M and 5M rows.

For each size it writes ``run.py``'s generated, unshifted batch (20 numeric and 5
categorical columns) as Parquet, then times in fresh subprocesses (best of ``--repeats``):

- floor: ``pandas.read_parquet`` of the 25 columns, ``np.histogram`` (10 bins) of every
  numeric column and ``value_counts`` of every categorical one;
- reference: the same read, then ``build_reference_profile`` (quantile edges, counts,
  moments, tail sums), which is what ``train_challenger`` runs on its training frame.

Prints wall time, the build's own time (without the read), the ratio to the floor and the
growth from the smallest size (linear when it equals the ratio of the rows). ``--src DIR``
(repeatable) also times the ``retrainer`` package found in DIR, e.g. another checkout's
``src``, so a change is compared with its base in one run on a shared host.
Usage: python benchmarks/reference_build.py [--rows 1000000 5000000] [--src ../main/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import CATEGORICAL, NUMERIC, generate

STEPS = {
    "floor": (
        "import numpy as np, pandas as pd",
        "f = pd.read_parquet(BATCH, columns=NUMERIC + CATEGORICAL)\n"
        "READ = time.perf_counter() - START\n"
        "for n in NUMERIC:\n"
        "    np.histogram(f[n].to_numpy(), bins=10)\n"
        "for n in CATEGORICAL:\n"
        "    f[n].value_counts()",
    ),
    "reference": (
        "import numpy as np, pandas as pd\nfrom retrainer.drift import build_reference_profile",
        "f = pd.read_parquet(BATCH, columns=NUMERIC + CATEGORICAL)\n"
        "READ = time.perf_counter() - START\n"
        "build_reference_profile(f, NUMERIC, CATEGORICAL, bins=10)",
    ),
}

HARNESS = """
import json, resource, sys, time
BATCH = sys.argv[1]
NUMERIC, CATEGORICAL = {numeric!r}, {categorical!r}
{imports}
import retrainer
TIMES, BUILDS = [], []
for _ in range({repeats}):
    START = time.perf_counter()
{work}
    TIMES.append(time.perf_counter() - START)
    BUILDS.append(TIMES[-1] - READ)
print(json.dumps({{"seconds": min(TIMES), "build_seconds": min(BUILDS), "runs": TIMES,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "package": retrainer.__file__}}))
"""


def write_reference(path: Path, rows: int) -> None:
    """Write ``rows`` unshifted rows, 1M at a time (the generator never holds them all)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for seed, start in enumerate(range(0, rows, 1_000_000), start=1):
        frame = generate(min(1_000_000, rows - start), seed, shifted=False)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
    assert writer is not None
    writer.close()


def measure(step: str, batch: Path, repeats: int, src: str | None) -> dict[str, object]:
    imports, work = STEPS[step]
    code = HARNESS.format(
        imports=imports,
        work="\n".join("    " + line for line in work.splitlines()),
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        repeats=repeats,
    )
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", code, str(batch)], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="report the best of N runs")
    parser.add_argument("--src", action="append", default=[], help="also time this package")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    variants: list[tuple[str, str | None]] = [("reference", None)]
    variants += [(f"reference@{src}", str(Path(src).resolve())) for src in args.src]
    report: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            batch = Path(tmp) / f"reference-{rows}.parquet"
            started = time.perf_counter()
            write_reference(batch, rows)
            print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
            results = {"floor": measure("floor", batch, args.repeats, None)}
            for name, src in variants:
                results[name] = measure("reference", batch, args.repeats, src)
            batch.unlink()
            report.append({"rows": rows, **results})
    first = report[0]
    print(f"\n{'rows':>11} {'step':<24} {'wall s':>7} {'build s':>8} {'x floor':>8} {'growth':>7}")
    for entry in report:
        rows = int(entry["rows"])  # type: ignore[call-overload]
        floor = float(entry["floor"]["seconds"])  # type: ignore[index]
        for step, r in entry.items():
            if step == "rows":
                continue
            seconds = float(r["seconds"])  # type: ignore[index]
            growth = seconds / float(first[step]["seconds"])  # type: ignore[index]
            print(
                f"{rows:>11,} {step[:24]:<24} {seconds:>7.2f} "
                f"{float(r['build_seconds']):>8.2f} {seconds / floor:>8.2f} "  # type: ignore[index]
                f"{growth:>6.1f}x"
            )
    print(f"(growth is against {int(first['rows']):,} rows)")  # type: ignore[call-overload]
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

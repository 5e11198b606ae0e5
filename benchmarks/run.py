"""Throughput and memory of the batch checks, against a floor measured in the same run.

Generates a batch (default 1M rows: 20 numeric and 5 categorical columns, 6 of them
shifted), writes it as Parquet, then measures in fresh subprocesses (so peak RSS belongs
to one step):

- floor: reading the Parquet file into pandas;
- drift: read + profile on the reference bins + PSI verdict;
- validation: read + the Great Expectations suite.

Prints wall time, peak RSS and the ratio to the floor; `--json` writes the numbers too.
Usage: python benchmarks/run.py [--rows 1000000] [--json results.json]
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
        data[name] = pd.Categorical(rng.choice(["a", "b", "c", "d"], rows, p=p))
    data["y"] = rng.integers(0, 2, rows)
    return pd.DataFrame(data)


# Each step: (imports, work). Only the work is timed: import costs are paid once per
# worker process, not per batch.
STEPS = {
    "floor": ("import pandas as pd", "f = pd.read_parquet(BATCH)"),
    "drift": (
        "import pandas as pd\n"
        "from retrainer.config import DriftConfig\n"
        "from retrainer.drift import Profile, detect_drift, profile_batch",
        "ref = Profile.from_json(open(PROFILE).read())\n"
        "f = pd.read_parquet(BATCH)\n"
        "r = detect_drift(ref, profile_batch(f, ref), DriftConfig())\n"
        "assert {f.feature for f in r.drifted_features} == SHIFTED, r.explanation",
    ),
    "validation": (
        "import pandas as pd\n"
        "from retrainer.validation import SuiteSpec, validate_frame\n"
        "from retrainer.validation.runner import _batch_definition\n"
        "_batch_definition()",
        "spec = SuiteSpec.from_json(open(SUITE).read())\n"
        "f = pd.read_parquet(BATCH)\n"
        "r = validate_frame(f, spec, require_target=False)\n"
        "assert r.success, r.summary()",
    ),
}

HARNESS = """
import json, resource, sys, time
BATCH, PROFILE, SUITE = sys.argv[1:4]
SHIFTED = {shifted!r}
{imports}
START = time.perf_counter()
{work}
print(json.dumps({{"seconds": time.perf_counter() - START,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(step: str, batch: Path, profile: Path, suite: Path) -> dict[str, float]:
    imports, work = STEPS[step]
    code = HARNESS.format(imports=imports, work=work, shifted=SHIFTED)
    out = subprocess.run(
        [sys.executable, "-c", code, str(batch), str(profile), str(suite)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = generate(200_000, 0, shifted=False)
        (folder / "profile.json").write_text(
            build_reference_profile(reference, NUMERIC, CATEGORICAL).to_json()
        )
        (folder / "suite.json").write_text(build_suite_spec(reference, config).to_json())
        batch = folder / "batch.parquet"
        started = time.perf_counter()
        generate(args.rows, 1, shifted=True).to_parquet(batch, index=False)
        print(
            f"generated {args.rows:,} rows x 25 columns in {time.perf_counter() - started:.1f} s "
            f"({batch.stat().st_size / 2**20:.0f} MiB Parquet)"
        )
        results = {
            step: measure(step, batch, folder / "profile.json", folder / "suite.json")
            for step in STEPS
        }
    floor = results["floor"]["seconds"]
    print(f"{'step':<11} {'seconds':>8} {'peak RSS MiB':>13} {'x floor':>8}")
    for step, r in results.items():
        print(
            f"{step:<11} {r['seconds']:>8.2f} {r['peak_rss_mb']:>13.0f} "
            f"{r['seconds'] / floor:>8.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, **results}, indent=2))


if __name__ == "__main__":
    main()

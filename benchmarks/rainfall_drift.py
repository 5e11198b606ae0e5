"""Drift verdicts on the NOAA rainfall periods, with importances computed as training does.

Trains the rainfall model's configured pipeline on period 0 (its newest 30% held out, as
``retrainer.training`` splits a one-batch window), takes the permutation importance on
that holdout, builds the reference profile with the model's scores, and prints the drift
verdict of every later period with the model's own drift config. The documented break
is in period 6; periods 2-5 move visibility and wind a lot without hurting the model.

Usage: python benchmarks/rainfall_drift.py [--report-dir DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--report-dir", type=Path, default=None, help="write HTML reports")
    args = parser.parse_args()

    from retrainer.config import load_model_config
    from retrainer.datasets import load_rainfall, split_periods
    from retrainer.drift import (
        build_reference_profile,
        detect_drift,
        profile_batch,
        profile_predictions,
        render_html,
    )
    from retrainer.evaluation.metrics import model_output, predict_scores
    from retrainer.training.pipeline import build_pipeline
    from retrainer.training.train import _importances

    config = load_model_config(ROOT / "config/models/rainfall.yaml")
    periods = split_periods(load_rainfall(), 10)
    first = periods[0]
    n_train = len(first) - max(1, round(len(first) * config.training.holdout_fraction))
    train, holdout = first.iloc[:n_train], first.iloc[n_train:]
    model = build_pipeline(config).fit(train[config.features], train[config.target.column])
    importances = _importances(model, holdout, config)
    print("permutation importance:", json.dumps({k: round(v, 4) for k, v in importances.items()}))
    reference = build_reference_profile(
        train,
        config.numeric_features,
        config.categorical_features,
        bins=config.drift.bins,
        predictions=model_output(predict_scores(model, train, config), config),
    )
    print(f"{'period':>6}  {'verdict':<8} {'score':>5}  drifted features")
    for i in range(1, len(periods)):
        outputs = model_output(predict_scores(model, periods[i], config), config)
        current = profile_batch(periods[i], reference).with_prediction(
            profile_predictions(outputs, reference.prediction)
        )
        result = detect_drift(reference, current, config.drift, importances)
        verdict = "DRIFT" if result.drift else "ok"
        names = ", ".join(f.feature for f in result.drifted_features) or "-"
        print(f"{i:>6}  {verdict:<8} {result.drift_score:>5.2f}  {names}")
        if args.report_dir:
            args.report_dir.mkdir(parents=True, exist_ok=True)
            html = render_html(result, reference, current, title=f"rainfall period {i}")
            (args.report_dir / f"period-{i}.html").write_text(html)


if __name__ == "__main__":
    main()

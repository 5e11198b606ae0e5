"""Label-free performance estimate: confidence-based performance estimation (CBPE).

A classifier whose probabilities are calibrated tells us how often it expects to be
right: if it says 0.8 on a row, the row is positive 80% of the time. So the expected
confusion matrix of a batch, and every metric built from it, follows from the
probabilities alone, long before the labels arrive (the method NannyML calls CBPE).

The model's raw probabilities are rarely calibrated, so at training time a
:class:`Calibrator` is fitted on the holdout (isotonic, or Platt scaling for small
holdouts; one-vs-rest per class for multiclass, then renormalised) and stored as JSON with
the model version. The estimate holds while ``P(y | x)`` holds; when the meaning of the
labels changes it stays confident while the realized metrics fall, which is why the
monitor compares the two when labels land.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from retrainer.errors import InputDataError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Calibrator",
    "estimate_metrics",
    "expected_roc_auc",
    "fit_calibrator",
]

Method = Literal["isotonic", "platt"]
_EPS = 1e-6


@dataclass(frozen=True)
class _Curve:
    """One monotone map from a raw probability to a calibrated one."""

    method: Method
    # isotonic: interpolation knots; platt: (a, b) of sigmoid(a * logit(p) + b).
    x: tuple[float, ...]
    y: tuple[float, ...]

    def apply(self, p: np.ndarray) -> np.ndarray:
        import numpy as np

        p = np.asarray(p, dtype=float)
        if self.method == "isotonic":
            # Same as IsotonicRegression.predict with out_of_bounds="clip".
            return np.interp(p, self.x, self.y)
        a, b = self.x[0], self.y[0]
        return 1.0 / (1.0 + np.exp(-(a * _logit(p) + b)))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "x": list(self.x), "y": list(self.y)}


def _logit(p: np.ndarray) -> np.ndarray:
    import numpy as np

    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _fit_curve(p: np.ndarray, hit: np.ndarray, method: Method) -> _Curve:
    import numpy as np

    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, hit)
        return _Curve(
            "isotonic", tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_))
        )
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(hit)) < 2:
        # Platt needs both outcomes; a class never seen on the holdout is never expected.
        return _Curve("platt", (0.0,), (float(_logit(np.array([hit.mean()]))[0]),))
    # A large C: plain maximum likelihood, as in Platt (1999), not a shrunk slope.
    lr = LogisticRegression(C=1e6).fit(_logit(p).reshape(-1, 1), hit)
    return _Curve("platt", (float(lr.coef_[0, 0]),), (float(lr.intercept_[0]),))


@dataclass(frozen=True)
class Calibrator:
    """Map a model's class probabilities to calibrated ones (one curve per class).

    A binary model has one curve, for the positive class; a multiclass model one per
    class (one-vs-rest), whose outputs are renormalised to sum to one per row.
    """

    task: Literal["binary", "multiclass"]
    classes: tuple[str, ...]
    curves: tuple[_Curve, ...]
    positive: str | None = None
    rows: int = 0

    def calibrate(self, proba: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities with the same columns as ``proba``."""
        import numpy as np

        proba = np.asarray(proba, dtype=float)
        if proba.ndim != 2 or proba.shape[1] != len(self.classes):
            raise InputDataError(
                f"calibrator expects {len(self.classes)} probability columns "
                f"({list(self.classes)}), got shape {proba.shape}"
            )
        if self.task == "binary":
            assert self.positive is not None
            k = self.classes.index(self.positive)
            pos = self.curves[0].apply(proba[:, k])
            out = np.empty_like(proba)
            out[:, k] = pos
            out[:, 1 - k] = 1.0 - pos
            return out
        out = np.column_stack([c.apply(proba[:, i]) for i, c in enumerate(self.curves)])
        total = out.sum(axis=1, keepdims=True)
        # A row every curve maps to 0 keeps the model's own probabilities.
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), proba)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "retrainer.cbpe_calibrator",
            "version": 1,
            "task": self.task,
            "classes": list(self.classes),
            "positive": self.positive,
            "rows": self.rows,
            "curves": [c.to_dict() for c in self.curves],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        if data.get("kind") != "retrainer.cbpe_calibrator":
            raise InputDataError(f"not a stored calibrator: kind={data.get('kind')!r}")
        return cls(
            task=data["task"],
            classes=tuple(str(c) for c in data["classes"]),
            curves=tuple(_Curve(c["method"], tuple(c["x"]), tuple(c["y"])) for c in data["curves"]),
            positive=None if data.get("positive") is None else str(data["positive"]),
            rows=int(data.get("rows", 0)),
        )


def fit_calibrator(
    y: Any,
    proba: np.ndarray,
    classes: list[Any],
    *,
    task: Literal["binary", "multiclass"],
    positive: Any = None,
    method: Literal["auto", "isotonic", "platt"] = "auto",
    min_isotonic_rows: int = 500,
) -> Calibrator:
    """Fit the calibrator of a model's probabilities on labelled holdout rows.

    Args:
        y: true labels of the holdout rows.
        proba: the model's ``predict_proba`` on those rows, columns in ``classes`` order.
        classes: the model's ``classes_``.
        task: binary (one curve for ``positive``) or multiclass (one-vs-rest curves).
        method: isotonic, platt, or auto (isotonic from ``min_isotonic_rows`` rows on:
            isotonic regression overfits a small holdout, a two-parameter sigmoid does not).

    Raises:
        InputDataError: no labelled rows, or shapes that do not match.
    """
    import numpy as np

    y = np.asarray([str(v) for v in _plain(y)])
    proba = np.asarray(proba, dtype=float)
    names = [str(c) for c in _plain(classes)]
    if len(y) == 0:
        raise InputDataError("cannot fit a calibrator on an empty holdout")
    if proba.shape != (len(y), len(names)):
        raise InputDataError(
            f"holdout probabilities have shape {proba.shape}, expected ({len(y)}, {len(names)})"
        )
    chosen: Method = (
        ("isotonic" if len(y) >= min_isotonic_rows else "platt") if method == "auto" else method
    )
    if task == "binary":
        pos = str(_plain([positive])[0])
        if pos not in names:
            raise InputDataError(f"positive label {positive!r} is not a model class {names}")
        k = names.index(pos)
        curves: tuple[_Curve, ...] = (_fit_curve(proba[:, k], (y == pos).astype(float), chosen),)
        return Calibrator("binary", tuple(names), curves, pos, len(y))
    curves = tuple(
        _fit_curve(proba[:, i], (y == name).astype(float), chosen) for i, name in enumerate(names)
    )
    return Calibrator("multiclass", tuple(names), curves, None, len(y))


def _plain(values: Any) -> list[Any]:
    """Labels as plain Python values, integral floats as ints (``1.0`` and ``1`` agree)."""
    out = []
    for v in list(values):
        v = v.item() if hasattr(v, "item") else v
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(v)
    return out


def expected_roc_auc(score: np.ndarray, p: np.ndarray) -> float | None:
    """Expected ROC AUC of ``score`` when row ``i`` is positive with probability ``p[i]``.

    Notes:
        Sort rows by descending score and sweep the threshold ``t`` through the distinct
        scores. With calibrated probabilities the expected counts above ``t`` are

        .. math::

            \\mathrm{TP}(t) = \\sum_{s_i \\ge t} p_i, \\qquad
            \\mathrm{FP}(t) = \\sum_{s_i \\ge t} (1 - p_i),

        so :math:`\\mathrm{TPR}(t) = \\mathrm{TP}(t) / \\sum_i p_i` and
        :math:`\\mathrm{FPR}(t) = \\mathrm{FP}(t) / \\sum_i (1 - p_i)`. The expected AUC
        is the trapezoidal area under that curve; rows with equal scores move together
        (one step, counted as half right), as in ``roc_auc_score``.

    Returns:
        None when the batch is expected to hold (almost) no positives or no negatives.
    """
    import numpy as np

    score = np.asarray(score, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    pos, neg = p.sum(), (1 - p).sum()
    if pos < _EPS or neg < _EPS:
        return None
    order = np.argsort(-score, kind="stable")
    s, q = score[order], p[order]
    # Last index of each run of equal scores: the curve only has points between ties.
    ends = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tpr = np.r_[0.0, np.cumsum(q)[ends] / pos]
    fpr = np.r_[0.0, np.cumsum(1 - q)[ends] / neg]
    return float(np.trapezoid(tpr, fpr))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > _EPS else 0.0


def estimate_metrics(
    calibrator: Calibrator, proba: np.ndarray, prediction: Any
) -> dict[str, float]:
    """Estimate a classifier's metrics on a batch from its probabilities alone.

    Args:
        calibrator: fitted on the model version's holdout.
        proba: raw class probabilities of the batch, columns in ``calibrator.classes``.
        prediction: the model's predicted class per row.

    Returns:
        accuracy, f1, precision and recall always; roc_auc when defined (binary: the
        positive class; multiclass: macro average of one-vs-rest curves). Empty for an
        empty batch.

    Notes:
        With calibrated probabilities :math:`\\hat p_{ik} = P(y_i = k)` the expected
        confusion matrix is :math:`C_{kj} = \\sum_{i: \\hat y_i = j} \\hat p_{ik}`
        (expected number of rows of true class ``k`` predicted as ``j``). Then

        - accuracy :math:`= \\operatorname{tr} C / n`, the mean calibrated probability
          of the predicted class (the mean calibrated max probability when the model
          predicts its most probable class);
        - per class :math:`TP_k = C_{kk}`, :math:`FP_k = \\sum_j C_{jk} - TP_k`,
          :math:`FN_k = \\sum_j C_{kj} - TP_k`; precision, recall and
          :math:`F_1 = 2TP / (2TP + FP + FN)` of the positive class (binary) or their
          macro average over classes (multiclass), as the realized metrics are computed;
        - ROC AUC: :func:`expected_roc_auc` of the raw score of a class against its
          calibrated probability (macro average one-vs-rest for multiclass).

        Expected ratios are taken as ratios of expected counts, which is accurate for
        batches of more than a few dozen rows.
    """
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    n = len(proba)
    if n == 0:
        return {}
    cal = calibrator.calibrate(proba)
    names = list(calibrator.classes)
    pred = np.asarray([str(v) for v in _plain(prediction)])
    unknown = sorted(set(pred) - set(names))
    if unknown:
        raise InputDataError(f"predictions {unknown} are not classes of the calibrator {names}")
    onehot = np.column_stack([(pred == c).astype(float) for c in names])
    confusion = cal.T @ onehot  # [true k, predicted j]
    tp = np.diag(confusion)
    fp = confusion.sum(axis=0) - tp
    fn = confusion.sum(axis=1) - tp
    out: dict[str, float] = {"accuracy": float(tp.sum() / n)}
    if calibrator.task == "binary":
        assert calibrator.positive is not None
        k = names.index(calibrator.positive)
        out["precision"] = _ratio(tp[k], tp[k] + fp[k])
        out["recall"] = _ratio(tp[k], tp[k] + fn[k])
        out["f1"] = _ratio(2 * tp[k], 2 * tp[k] + fp[k] + fn[k])
        auc = expected_roc_auc(proba[:, k], cal[:, k])
        if auc is not None:
            out["roc_auc"] = auc
        return out
    # Macro averages over the classes that occur (expected or predicted), as sklearn
    # averages over the labels present in y or in the predictions.
    seen = [i for i in range(len(names)) if confusion[i].sum() > 0.5 or onehot[:, i].any()]
    precision = [_ratio(tp[i], tp[i] + fp[i]) for i in seen]
    recall = [_ratio(tp[i], tp[i] + fn[i]) for i in seen]
    f1 = [_ratio(2 * tp[i], 2 * tp[i] + fp[i] + fn[i]) for i in seen]
    out["precision"] = float(np.mean(precision))
    out["recall"] = float(np.mean(recall))
    out["f1"] = float(np.mean(f1))
    aucs = [expected_roc_auc(proba[:, i], cal[:, i]) for i in range(len(names))]
    if all(a is not None for a in aucs):
        out["roc_auc"] = float(np.mean([a for a in aucs if a is not None]))
    return out

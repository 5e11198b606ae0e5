"""The decision timeline: batches, retrains and alias moves drawn where they happened."""

from __future__ import annotations

import pytest

from retrainer.status import BatchStatus, ModelStatus, TriggerStatus
from retrainer.timeline import AliasMove, _moves, timeline_svg

pytestmark = pytest.mark.unit


def _batch(batch_id: str, version: str, auc: float, drift: bool) -> BatchStatus:
    return BatchStatus(
        batch_id, None, version, drift, 0.4 if drift else 0.1, (), None, 100, 100,
        {"roc_auc": auc}, {"roc_auc": auc + 0.02}, False,
    )  # fmt: skip


STATUS = ModelStatus(
    model="m",
    metric="roc_auc",
    champion=None,
    batches=(
        _batch("p1", "1", 0.80, False),
        _batch("p2", "1", 0.60, True),
        _batch("p3", "2", 0.82, False),
        _batch("p4", "1", 0.79, False),
    ),
    decisions=(TriggerStatus("p2", None, "retrain", "decay", ("auc fell",), None),),
)
LEDGER = [
    {"event": "promote", "version": "1"},
    {"event": "promote", "version": "2"},
    {"event": "rollback", "version": "1"},
]


def test_alias_moves_are_placed_before_the_first_batch_the_new_champion_scored() -> None:
    assert _moves(STATUS, LEDGER) == [AliasMove(2, "2", "promote"), AliasMove(3, "1", "rollback")]


def test_a_canary_that_was_promoted_is_drawn_as_its_promotion() -> None:
    # Version 2 took a share of traffic before the live gate promoted it.
    ledger = [LEDGER[0], {"event": "canary_start", "version": "2"}, *LEDGER[1:]]
    assert _moves(STATUS, ledger) == [AliasMove(2, "2", "promote"), AliasMove(3, "1", "rollback")]


def test_the_svg_shows_every_batch_the_retrain_and_the_moves() -> None:
    svg = timeline_svg(STATUS, LEDGER)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<script" not in svg and 'href="http' not in svg  # self-contained
    for text in ("p1", "p4", "retrain (decay)", "promote v2", "rollback v1", "drift score"):
        assert text in svg, text
    assert timeline_svg(STATUS, LEDGER) == svg  # the same records draw the same picture


def test_a_version_promoted_then_rolled_back_to_is_drawn_as_each_move() -> None:
    # The demo's ledger: v2 promoted at period 6 and, after the last batch, rolled back to.
    status = ModelStatus(
        model="m",
        metric="roc_auc",
        champion=None,
        batches=(
            _batch("p5", "1", 0.81, False),
            _batch("p7", "2", 0.65, True),
            _batch("p9", "3", 0.79, False),
        ),
        decisions=(),
    )
    ledger = [
        {"event": "promote", "version": "1"},
        {"event": "promote", "version": "2"},
        {"event": "promote", "version": "3"},
        {"event": "rollback", "version": "2"},
    ]
    assert _moves(status, ledger) == [AliasMove(1, "2", "promote"), AliasMove(2, "3", "promote")]

"""Conditional creates on a real S3 endpoint (moto server): the promotion claim's basis."""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING

import pytest

from retrainer.storage import S3Storage

if TYPE_CHECKING:
    from .conftest import S3Server

pytestmark = pytest.mark.integration


def test_s3_create_new_has_exactly_one_winner(moto_s3: S3Server) -> None:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=bucket)
    storage = S3Storage(bucket, "lake", endpoint_url=moto_s3.endpoint_url)
    assert storage.create_new("locks/m/a.json", b"first")
    assert not storage.create_new("locks/m/a.json", b"second")
    assert storage.read_bytes("locks/m/a.json") == b"first"

    barrier = threading.Barrier(4)
    wins: list[int] = []

    def racer(i: int) -> None:
        barrier.wait()
        if storage.create_new("locks/m/b.json", str(i).encode()):
            wins.append(i)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_s3_claims_hold_their_intent_and_a_released_one_is_taken_over(moto_s3: S3Server) -> None:
    from retrainer.errors import StaleClaim
    from retrainer.registry.claims import Snapshot, claim_champion, read_claim, release_claim
    from retrainer.registry.ledger import read_ledger

    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=bucket)
    storage = S3Storage(bucket, "lake", endpoint_url=moto_s3.endpoint_url)
    snapshot = Snapshot("m", "1", 0)
    claim = claim_champion(storage, snapshot, "2", event="promote", actor="a", ledger={"x": 1})
    assert read_claim(storage, claim.key) == claim  # body written with the conditional put
    release_claim(storage, claim.key, reason="move failed", actor="a")
    taken = claim_champion(storage, snapshot, "3", event="promote", actor="b", ledger={})
    assert taken.key == "locks/m/champion-1-0.1.json"
    assert read_ledger(storage, "m")[-1]["event"] == "claim_takeover"
    storage.write_bytes("locks/m/champion-2-0.json", b"")
    with pytest.raises(StaleClaim, match=r"s3://.*champion-2-0.json is empty"):
        claim_champion(storage, Snapshot("m", "2", 0), "3", event="promote", actor="b", ledger={})

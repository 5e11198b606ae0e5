"""The lake's key layout: every key the pipeline reads or writes, derived from ids.

```
incoming/<m>/<batch>.parquet|csv            landing zone (never deleted by the pipeline)
incoming/<m>/labels/<batch>.parquet|csv     landed ground truth
batches/<m>/<batch>/data.parquet            accepted batch
batches/<m>/<batch>/meta.json               its catalogue record (rows, time span)
batches/<m>/<batch>/served.parquet          what an online model served, row for row
quarantine/<m>/<batch>/                     rejected batch or rows + validation evidence
quarantine/<m>/labels-<batch>/              rejected labels file
labels/<m>/<batch>.parquet                  accepted ground truth
predictions/<m>/<batch>.parquet             prediction log
reports/<m>/<batch>/<record>                drift.html, drift.json, monitor.json,
                                            performance.json, labels-state.json, trigger.json
datasets/<m>/<run id>/                      a training run's train/holdout/rejected rows
shadow/<m>/v<version>/<batch>.json          shadow comparison of a challenger, per batch
ledger/<m>/<time>-<event>.json              append-only record of every alias change
locks/<m>/champion-<epoch>[.<n>].json       champion claims: one winner per epoch (and per
                                            takeover n of a stale claim); each holds its intent
locks/<m>/champion-<epoch>[.<n>].released   a claim given up before its alias move
intake/<m>/<batch>/claim-<n>.json           intake claims: the monitor run that takes a
                                            landed batch in (n > 0 took over a stale one)
```

Keys come from the model, batch and run ids, never "latest": a rerun overwrites the same
keys. Prefixes meant for ``Storage.list`` end in ``/`` so ``batches/m/`` never lists
``batches/m2/``; folders that files are joined to (``batch_dir``, ``quarantine``) do not.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "BATCH_DATA",
    "BATCH_META",
    "BATCH_SERVED",
    "CANARY",
    "DATA_DOCS",
    "DRIFT_HTML",
    "DRIFT_JSON",
    "INCOMING_SUFFIXES",
    "LABELS_QUARANTINE",
    "LABELS_STATE",
    "LABELS_ZONE",
    "MONITOR",
    "PERFORMANCE",
    "QUARANTINED_ROWS",
    "SUMMARY",
    "TRIGGER",
    "VALIDATION_RESULT",
    "batch_data",
    "batch_dir",
    "batch_meta",
    "batch_served",
    "batches",
    "champion_claim",
    "claim_release",
    "claims",
    "incoming",
    "incoming_file",
    "intake_claim",
    "intake_claims",
    "labels",
    "labels_file",
    "labels_quarantine",
    "ledger",
    "ledger_entry",
    "prediction_log",
    "quarantine",
    "quarantined",
    "report",
    "report_dir",
    "reports",
    "shadow",
    "shadow_result",
    "training_data",
]

INCOMING_SUFFIXES = (".parquet", ".csv")
LABELS_ZONE = "labels"
# A labels file is quarantined beside batches, in a folder named after its batch.
LABELS_QUARANTINE = "labels-"

BATCH_DATA = "data.parquet"
BATCH_META = "meta.json"
# What an online model served for the accepted rows, row for row (data.serving).
BATCH_SERVED = "served.parquet"

# What validation leaves in a quarantine folder.
VALIDATION_RESULT = "validation_result.json"
SUMMARY = "summary.txt"
DATA_DOCS = "data_docs.html"
QUARANTINED_ROWS = "rows.parquet"

# The per-batch records under reports/<m>/<batch>/.
DRIFT_HTML = "drift.html"
DRIFT_JSON = "drift.json"
MONITOR = "monitor.json"
PERFORMANCE = "performance.json"
CANARY = "canary.json"  # the live gate's decision on each canary, as of this batch
LABELS_STATE = "labels-state.json"
TRIGGER = "trigger.json"


def incoming(model: str, zone: str | None = None) -> str:
    """The landing folder of a model (or of one of its zones, e.g. ``labels``)."""
    return f"incoming/{model}/{zone}" if zone else f"incoming/{model}"


def incoming_file(model: str, batch_id: str, suffix: str, zone: str | None = None) -> str:
    """A landed file: ``incoming/<m>/[<zone>/]<batch><suffix>``."""
    return f"{incoming(model, zone)}/{batch_id}{suffix}"


def batches(model: str) -> str:
    """Prefix of every accepted batch of a model."""
    return f"batches/{model}/"


def batch_dir(model: str, batch_id: str) -> str:
    return f"batches/{model}/{batch_id}"


def batch_data(model: str, batch_id: str) -> str:
    return f"{batch_dir(model, batch_id)}/{BATCH_DATA}"


def batch_served(model: str, batch_id: str) -> str:
    return f"{batch_dir(model, batch_id)}/{BATCH_SERVED}"


def batch_meta(model: str, batch_id: str) -> str:
    return f"{batch_dir(model, batch_id)}/{BATCH_META}"


def quarantined(model: str) -> str:
    """Prefix of every quarantine folder of a model (batches and labels files)."""
    return f"quarantine/{model}/"


def quarantine(model: str, batch_id: str) -> str:
    """The quarantine folder of a batch."""
    return f"quarantine/{model}/{batch_id}"


def labels_quarantine(model: str, batch_id: str) -> str:
    """The quarantine folder of a rejected labels file."""
    return quarantine(model, f"{LABELS_QUARANTINE}{batch_id}")


def labels(model: str) -> str:
    """Prefix of the accepted labels of a model."""
    return f"labels/{model}/"


def labels_file(model: str, batch_id: str) -> str:
    return f"labels/{model}/{batch_id}.parquet"


def prediction_log(model: str, batch_id: str) -> str:
    return f"predictions/{model}/{batch_id}.parquet"


def reports(model: str) -> str:
    """Prefix of every per-batch report folder of a model."""
    return f"reports/{model}/"


def report_dir(model: str, batch_id: str) -> str:
    return f"reports/{model}/{batch_id}"


def report(model: str, batch_id: str, name: str) -> str:
    """A per-batch record, ``name`` one of :data:`MONITOR`, :data:`TRIGGER`, ..."""
    return f"{report_dir(model, batch_id)}/{name}"


def training_data(model: str, run_id: str) -> str:
    """The folder of a training run's rows (``train``, ``holdout``, ``rejected`` Parquet)."""
    return f"datasets/{model}/{run_id}"


def shadow(model: str, version: str) -> str:
    """Prefix of a shadow challenger's per-batch comparisons."""
    return f"shadow/{model}/v{version}/"


def shadow_result(model: str, version: str, batch_id: str) -> str:
    return f"{shadow(model, version)}{batch_id}.json"


def ledger(model: str) -> str:
    """Prefix of a model's alias-change ledger."""
    return f"ledger/{model}/"


def ledger_entry(model: str, at: datetime, event: str) -> str:
    """One ledger entry; the time first, so listing order is time order."""
    return f"{ledger(model)}{at:%Y%m%dT%H%M%S%fZ}-{event}.json"


def claims(model: str) -> str:
    """Prefix of a model's champion claims and their release markers."""
    return f"locks/{model}/"


def champion_claim(model: str, epoch: str, attempt: int = 0) -> str:
    """The claim to replace the champion of one epoch (created at most once).

    ``attempt`` n > 0 is the n-th takeover of a stale claim of the same epoch.
    """
    suffix = f".{attempt}" if attempt else ""
    return f"{claims(model)}champion-{epoch}{suffix}.json"


def claim_release(claim_key: str) -> str:
    """The marker saying the claim at ``claim_key`` was given up (its alias never moved)."""
    return claim_key.removesuffix(".json") + ".released"


def intake_claims(model: str) -> str:
    """Prefix of every intake claim of a model."""
    return f"intake/{model}/"


def intake_claim(model: str, batch_id: str, attempt: int = 0) -> str:
    """The claim of the ``attempt``-th monitor run to take a landed batch in (created once)."""
    return f"{intake_claims(model)}{batch_id}/claim-{attempt}.json"

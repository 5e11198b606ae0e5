"""The data lake: its key layout, the batch catalogue and the typed per-batch records.

``keys`` derives every key from model, batch and run ids; ``catalogue`` lands, finds,
accepts and lists batches; ``records`` reads and writes the JSON records beside them.
Only this package spells out the layout; everything else asks it for keys.
"""

from __future__ import annotations

from retrainer.lake import keys
from retrainer.lake.catalogue import (
    BATCH_ID,
    accept_batch,
    accepted_batches,
    accepted_ids,
    find_incoming,
    keep_accepted,
    labelled_ids,
    land_file,
    quarantined_ids,
)
from retrainer.lake.records import (
    BatchMeta,
    DriftRecord,
    LabelsState,
    MonitorRecord,
    PerformanceRecord,
    TriggerRecord,
    read_drift,
    read_labels_state,
    read_meta,
    read_monitor,
    read_performance,
    read_trigger,
    write_drift,
    write_labels_state,
    write_meta,
    write_monitor,
    write_performance,
    write_trigger,
)

__all__ = [
    "BATCH_ID",
    "BatchMeta",
    "DriftRecord",
    "LabelsState",
    "MonitorRecord",
    "PerformanceRecord",
    "TriggerRecord",
    "accept_batch",
    "accepted_batches",
    "accepted_ids",
    "find_incoming",
    "keep_accepted",
    "keys",
    "labelled_ids",
    "land_file",
    "quarantined_ids",
    "read_drift",
    "read_labels_state",
    "read_meta",
    "read_monitor",
    "read_performance",
    "read_trigger",
    "write_drift",
    "write_labels_state",
    "write_meta",
    "write_monitor",
    "write_performance",
    "write_trigger",
]

"""What a content process counts and remembers of its requests, written in one batch at a time.

Per request only memory moves: a distribution's counters (`Tally`, one per request, added up
when it ends), when each stored file was last served, and which stored files are being sent
right now. `flush` writes all of it in one transaction (three statements, however many requests
came): every HF_USAGE_FLUSH_INTERVAL seconds, when an eviction asks (a NOTIFY on
`FLUSH_CHANNEL`), and when the process stops. Figures the database refused are kept for the next
flush. With telemetry on, the same deltas go to pulpcore's OpenTelemetry meter.
"""

import asyncio
import logging
import time
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction

from .pulpcore_internals import content_app_status
from .usage_records import COUNTERS

log = logging.getLogger(__name__)

FLUSH_CHANNEL = "pulp_hugging_face_usage"
SENDING_FOR_AT_MOST = 24 * 3600  # a send nobody ended after this long is forgotten


@dataclass
class Tally:
    """One request to a distribution: where its file came from and the bytes it moved."""

    distribution_pk: object
    source: str | None = None  # "storage", "upstream" (set as it is answered)
    sent: int = 0
    fetched: int = 0  # bytes read from upstream by this request


CURRENT = ContextVar("hf_usage_tally", default=None)


def current():
    """The tally of the request being answered (a throwaway one outside a request)."""
    return CURRENT.get() or Tally(None)


@dataclass
class Batch:
    counts: dict = field(default_factory=dict)  # distribution pk -> [COUNTERS]
    served: dict = field(default_factory=dict)  # content pk -> epoch seconds


class Usage:
    """This process's figures not written yet, and what it is sending now."""

    def __init__(self):
        self.batch = Batch()
        self.sending = Counter()  # artifact pk -> sends under way
        self.sending_content = {}  # artifact pk -> (content pk, since)
        self.metrics = None

    def begin(self, distro):
        """Count a request to `distro`; its tally is `current()` until `end`."""
        tally = Tally(distro.pk)
        CURRENT.set(tally)
        return tally

    def end(self, tally):
        counts = self.batch.counts.setdefault(tally.distribution_pk, [0] * len(COUNTERS))
        counts[0] += 1
        if tally.source == "storage":
            counts[1] += 1
        elif tally.source == "upstream" or tally.sent or tally.fetched:
            counts[2] += 1
        counts[3] += tally.sent
        counts[4] += tally.fetched

    def served(self, content_pk):
        self.batch.served[content_pk] = time.time()

    def start_sending(self, artifact_pk, content_pk=None):
        self.sending[artifact_pk] += 1
        self.sending_content[artifact_pk] = (content_pk, time.monotonic())

    def stop_sending(self, artifact_pk):
        self.sending[artifact_pk] -= 1
        if self.sending[artifact_pk] <= 0:
            del self.sending[artifact_pk]
            self.sending_content.pop(artifact_pk, None)

    def take(self):
        """The batch to write (a new one starts); files being sent count as served now."""
        batch, self.batch = self.batch, Batch()
        now, old = time.time(), time.monotonic() - SENDING_FOR_AT_MOST
        for artifact_pk, (content_pk, since) in list(self.sending_content.items()):
            if since < old:
                self.sending.pop(artifact_pk, None)
                self.sending_content.pop(artifact_pk, None)
            elif content_pk is not None:
                batch.served[content_pk] = now
        return batch

    def give_back(self, batch):
        """A batch the database refused: merged into the next one."""
        for pk, counts in batch.counts.items():
            mine = self.batch.counts.setdefault(pk, [0] * len(COUNTERS))
            mine[:] = [a + b for a, b in zip(mine, counts)]
        for pk, at in batch.served.items():
            self.batch.served[pk] = max(at, self.batch.served.get(pk, 0))

    async def flush(self):
        """Write what was collected (the batch is taken here, on the event loop)."""
        batch, sending = self.take(), sorted(str(pk) for pk in self.sending)
        try:
            await sync_to_async(write, thread_sensitive=False)(
                batch, sending, content_app_status()[1]
            )
        except Exception:
            self.give_back(batch)
            raise
        self.report_metrics(batch)

    def report_metrics(self, batch):
        if settings.OTEL_ENABLED and batch.counts:
            if self.metrics is None:
                self.metrics = otel_counters()
            for pk, counts in batch.counts.items():
                for name, value in zip(COUNTERS, counts):
                    if value:
                        self.metrics[name].add(value, {"distribution": str(pk)})


def otel_counters(meter=None):
    """{counter name: OpenTelemetry counter} on pulpcore's content meter."""
    if meter is None:
        from pulpcore.metrics import init_otel_meter

        meter = init_otel_meter("pulp-content")
    units = {"bytes_sent": "By", "bytes_fetched": "By"}
    return {
        name: meter.create_counter(f"hugging_face.{name}", unit=units.get(name, "1"))
        for name in COUNTERS
    }


def write(batch, sending, process_name):
    """One transaction: the counters added up, last-served times moved forward, and the
    process's report of what it is sending."""
    with transaction.atomic(), connection.cursor() as cursor:
        # rows in one order in every process (no deadlock); never waits long for an eviction
        cursor.execute("SET LOCAL lock_timeout = '2s'")
        if batch.counts:
            pks = sorted(batch.counts, key=str)
            columns = [[batch.counts[pk][n] for pk in pks] for n in range(len(COUNTERS))]
            cursor.execute(ADD_COUNTS, [[str(pk) for pk in pks], *columns])
        if batch.served:
            pks = sorted(batch.served, key=str)
            cursor.execute(MOVE_SERVED, [[str(pk) for pk in pks], [batch.served[p] for p in pks]])
        cursor.execute(REPORT, [process_name, sending])


_NAMES = ", ".join(COUNTERS)
ADD_COUNTS = f"""
INSERT INTO hugging_face_distributionusage AS u (distribution_id, {_NAMES}, updated_at)
SELECT v.pk, v.requests, v.from_storage, v.from_upstream, v.bytes_sent, v.bytes_fetched, now()
FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
  AS v(pk, {_NAMES})
JOIN hugging_face_huggingfacedistribution d ON d.distribution_ptr_id = v.pk
ON CONFLICT (distribution_id) DO UPDATE SET
""" + ", ".join(f"{n} = u.{n} + EXCLUDED.{n}" for n in COUNTERS) + ", updated_at = now()"

MOVE_SERVED = """
UPDATE hugging_face_cachedfile c SET served_at = to_timestamp(v.at)
FROM unnest(%s::uuid[], %s::float8[]) AS v(content_id, at)
WHERE c.content_id = v.content_id AND c.served_at < to_timestamp(v.at)
"""

REPORT = """
INSERT INTO hugging_face_servingreport (name, artifacts, flushed_at)
VALUES (%s, to_jsonb(%s::text[]), clock_timestamp())
ON CONFLICT (name) DO UPDATE SET artifacts = EXCLUDED.artifacts, flushed_at = EXCLUDED.flushed_at
"""


usage = Usage()
_asked = asyncio.Event()


def ask_to_flush(payload=None):
    """An eviction asked every process for its figures now (a NOTIFY on FLUSH_CHANNEL)."""
    _asked.set()


async def flush_forever():
    """Flush every HF_USAGE_FLUSH_INTERVAL seconds, or as soon as asked."""
    while True:
        try:
            await asyncio.wait_for(_asked.wait(), settings.HF_USAGE_FLUSH_INTERVAL)
        except asyncio.TimeoutError:
            pass
        _asked.clear()
        try:
            await usage.flush()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("Could not write usage figures (%s); keeping them for the next try.", exc)


async def flush_at_exit(app=None):
    """The last figures of a stopping process; it sends nothing any more."""
    usage.sending.clear()
    usage.sending_content.clear()
    try:
        await usage.flush()
    except Exception as exc:
        log.warning("Could not write the last usage figures: %s", exc)

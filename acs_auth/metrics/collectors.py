"""Values read at scrape time: the mail outbox and the back-channel logout queue, never cached."""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from acs_auth.extensions import db
from acs_auth.models import BackchannelLogout, OutboxMessage, utcnow

log = logging.getLogger(__name__)


class OutboxCollector:
    """Depth of the mail outbox and the age of its oldest queued message.

    Queued means neither sent nor given up on (``failed_at``). One aggregate query on the
    request's database session; an outage is reported as ``acs_mail_outbox_up 0``, not a 500,
    so the other series still reach Prometheus.
    """

    def collect(self):
        up = GaugeMetricFamily("acs_mail_outbox_up", "1 when the outbox could be read.")
        try:
            queued, oldest, failed, logouts = self._read()
        except Exception as exc:
            log.warning("metrics: the outbox could not be read: %s", exc)
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "acs_mail_outbox_queued", "Messages waiting to be sent (retries included).", queued
        )
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "acs_mail_outbox_oldest_age_seconds",
            "Age of the oldest queued message (0 when the outbox is empty).",
            max(age, 0.0),
        )
        yield GaugeMetricFamily(
            "acs_mail_outbox_failed", "Messages given up on after the last attempt.", failed
        )
        yield GaugeMetricFamily(
            "acs_backchannel_logouts_pending",
            "Back-channel logout tokens waiting to be posted to a client (retries included).",
            logouts,
        )

    @staticmethod
    def _read():
        waiting = (OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        queued, oldest = db.session.execute(
            select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(*waiting)
        ).one()
        failed = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.failed_at.is_not(None))
        )
        logouts = db.session.scalar(
            select(func.count(BackchannelLogout.id)).where(
                BackchannelLogout.sent_at.is_(None), BackchannelLogout.failed_at.is_(None)
            )
        )
        db.session.rollback()  # end the read transaction at once
        return queued, oldest, failed, logouts


def multiprocess_dir() -> str | None:
    """The folder shared by the workers (gunicorn.conf.py sets it), or None in one process.

    prometheus_client chose its mode when it was imported: a folder named in the environment
    only later (by a test loading gunicorn.conf.py, say) holds nothing of this process.
    """
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """Every series in the Prometheus text format: counters of all workers, then the outbox."""
    if multiprocess_dir():
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    at_scrape = CollectorRegistry()
    at_scrape.register(OutboxCollector())
    return generate_latest(counted) + generate_latest(at_scrape)

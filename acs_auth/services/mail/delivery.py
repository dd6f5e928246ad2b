"""Delivery rounds: answer waiting link requests, then send what the outbox has due.

``send_pending`` is one round (the background thread, `flask mail worker` and `flask mail
send-pending` all run it); ``BackgroundSender`` runs rounds off the request path after a
request queued mail. It sits above the outbox, the transports and the link requests (whose
answers queue mail), so none of them imports another to reach it.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask, g

from acs_auth.extensions import db
from acs_auth.services.mail import link_requests, outbox
from acs_auth.services.mail.transports import Transport

log = logging.getLogger(__name__)

# The background sender sleeps at most this long between looks at messages waiting for a retry.
RETRY_POLL = timedelta(minutes=1)


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Send what is due; returns (sent, failed this round). Safe to run in many processes."""
    link_requests.process_pending(limit)  # requests for links become mail first
    sent = failed = 0
    transport = Transport()
    try:
        for row in outbox.claim_due(limit):
            try:
                transport.send(row)
            except Exception as exc:  # any transport error: keep the message and retry later
                failed += 1
                transport.reset()
                outbox.record_failure(row, exc)
            else:
                sent += 1
                outbox.record_sent(row)
    finally:
        transport.close()
    return sent, failed


class BackgroundSender:
    """One daemon thread per app and process that drains the outbox after requests queue mail.

    While messages wait for a retry it stays alive and wakes when the earliest is due (at most
    RETRY_POLL apart), so an SMTP outage heals without a separate worker.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Make the sender look at the outbox now, starting its thread when none runs."""
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="acs-mail")
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = self._drain()
            if wait is not None:
                self._wake.wait(min(wait, RETRY_POLL.total_seconds()))
                continue
            with self._lock:
                # Decided under the lock, so a kick that comes now either sees this thread
                # gone (and starts a new one) or has set the event that keeps it running.
                if not self._wake.is_set():
                    self._thread = None
                    return

    def _drain(self) -> float | None:
        """Send what is due; return seconds until the next retry, or None when nothing waits."""
        with self.app.app_context():
            try:
                send_pending()
                return outbox.seconds_to_next_attempt()
            except Exception:  # the database may be down: look again later
                log.exception("background mail delivery failed")
                return RETRY_POLL.total_seconds()
            finally:
                db.session.remove()


def sender_for(app: Flask) -> BackgroundSender:
    """The background sender of ``app`` (one per app, so test apps never share a thread)."""
    return app.extensions["acs_mail_sender"]


def init_app(app: Flask) -> None:
    """After a request that queued mail, wake the background sender (when configured)."""
    app.extensions["acs_mail_sender"] = BackgroundSender(app)

    @app.after_request
    def _dispatch(response):
        if g.get("mail_queued") and app.config["MAIL_DELIVERY"] == "background":
            response.call_on_close(sender_for(app).kick)
        return response

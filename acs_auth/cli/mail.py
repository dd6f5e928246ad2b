"""`flask mail …` commands: deliver the outbox once, or keep delivering it (the worker)."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from acs_auth import messages
from acs_auth.checks import mail_backend
from acs_auth.services.mail import outbox
from acs_auth.services.operations import maintenance

group = AppGroup("mail", help="Deliver queued email.")


def deliver_if_background() -> None:
    """After a command queued mail: send it now unless a separate worker is configured."""
    if current_app.config["MAIL_DELIVERY"] != "background":
        return
    done = maintenance.send_all_pending()
    click.echo(messages.CLI_MAIL_SENT_NOW.format(sent=done.sent, failed=done.failed))


@group.command("send-pending")
def send_pending() -> None:
    """Send every queued email that is due, then print the counts."""
    done = maintenance.send_all_pending()
    click.echo(
        messages.CLI_MAIL_COUNTS.format(
            sent=done.sent, failed=done.failed, pending=outbox.pending_count()
        )
    )
    if mail_backend(current_app.config) == "console":
        click.echo(messages.CLI_MAIL_TO_CONSOLE)
    if not done.sent:
        click.echo(outbox.why_nothing_was_sent(done.failed))


@group.command("worker")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=3600),
    default=5.0,
    show_default=True,
    help="Seconds between delivery rounds.",
)
@click.option("--once", is_flag=True, help="Run one delivery round and exit.")
def worker(interval: float, once: bool) -> None:
    """Deliver the outbox until stopped (Ctrl-C or SIGTERM finish the current round first)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda signum, frame: stop.set())
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    click.echo(messages.CLI_WORKER_STARTED.format(interval=interval), err=True)
    try:
        reached = maintenance.run_mail_worker(stop, interval, once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not reached:
        raise click.ClickException(messages.CLI_WORKER_OUTAGE)
    click.echo(messages.CLI_WORKER_STOPPED, err=True)

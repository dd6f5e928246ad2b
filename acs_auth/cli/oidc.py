"""`flask clients …` (register OpenID Connect clients) and `flask oidc …` (back-channel queue)."""

from __future__ import annotations

import json
import sys
import threading

import click
from flask.cli import AppGroup

from acs_auth.oidc import clients, logout

clients_group = AppGroup("clients", help="OpenID Connect clients: create, list, rotate a secret.")
oidc_group = AppGroup("oidc", help="The OpenID Connect provider's back-channel logout queue.")


def _print(client, secret: str | None) -> None:
    click.echo(f"client_id:     {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}   (shown once: store it now)")
    else:
        click.echo("client_secret: none (public client: PKCE only)")


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--post-logout-uri", "post_logout_uris", multiple=True)
@click.option("--backchannel-uri")
@click.option("--program", "programs", multiple=True, help="An LO Root ID the client serves.")
@click.option("--first-party", is_flag=True, help="Skip the consent screen.")
@click.option("--public", is_flag=True, help="No secret (a browser or mobile app).")
@click.option("--json", "as_json", is_flag=True, help="Print client_id and secret as JSON.")
def create_client(
    name, redirect_uris, post_logout_uris, backchannel_uri, programs, first_party, public, as_json
) -> None:
    """Register a client; its secret is printed once."""
    try:
        done = clients.register(
            name,
            redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(post_logout_uris),
            backchannel_logout_uri=backchannel_uri,
            programs=list(programs),
            first_party=first_party,
            public=public,
        )
    except clients.ClientInvalid as exc:
        for field, problem in exc.errors.items():
            click.echo(f"{field}: {problem}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps({"client_id": done.client.client_id, "client_secret": done.secret}))
    else:
        _print(done.client, done.secret)


@clients_group.command("list")
def list_clients() -> None:
    """Print every client: id, name, kind, redirect URIs."""
    for c in clients.all_clients():
        kind = "public" if c.is_public else "confidential"
        state = "active" if c.active else "inactive"
        click.echo(f"{c.client_id}\t{c.name}\t{kind}\t{state}\t{' '.join(c.redirect_uris)}")


@clients_group.command("rotate-secret")
@click.argument("client_id")
def rotate_secret(client_id: str) -> None:
    """Give a confidential client a new secret (printed once); the old one stops working."""
    client = clients.get(client_id)
    if client is None or client.is_public:
        click.echo("No confidential client with this id.", err=True)
        sys.exit(1)
    _print(client, clients.rotate_secret(client, actor=None))


@oidc_group.command("send-logouts")
def send_logouts() -> None:
    """Post every due back-channel logout token once, then print the counts."""
    sent, failed = logout.deliver_pending()
    click.echo(f"{sent} sent, {failed} failed")


@oidc_group.command("worker")
@click.option("--interval", type=click.FloatRange(min=0.1, max=3600), default=2.0)
def worker(interval: float) -> None:
    """Post back-channel logout tokens until stopped (failed posts are retried with back-off)."""
    stop = threading.Event()
    try:
        while not stop.is_set():
            try:
                logout.deliver_pending()
            except Exception as exc:  # the database is down: try again next round
                click.echo(f"round failed: {exc}", err=True)
                logout.db.session.rollback()
            stop.wait(interval)
    except KeyboardInterrupt:
        pass

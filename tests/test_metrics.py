"""/metrics: the bearer-token guard, and counters that follow what users and admins do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_registration import post_form, register

from acs_auth.extensions import db
from acs_auth.models import BackchannelLogout, OutboxMessage, utcnow
from acs_auth.oidc import clients as oidc_clients
from acs_auth.services import audit
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"
WITH_TOKEN = {"METRICS_TOKEN": TOKEN}
NEW_PASSWORD = "violet marmalade tugboat 1923"


@pytest.fixture
def app_overrides(request):
    """METRICS_TOKEN set unless a test parametrizes its own settings (``None`` unsets it)."""
    settings = {**WITH_TOKEN, **getattr(request, "param", {})}
    return {k: v for k, v in settings.items() if v is not None}


def scrape(client) -> dict:
    """Every sample of a scrape as {(name, frozenset(labels)): value}."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class Delta:
    """The change of chosen series between the start and the end of a test."""

    def __init__(self, client):
        self.client = client
        self.before = scrape(client)

    def __call__(self, name: str, **labels) -> float:
        return value(scrape(self.client), name, **labels) - value(self.before, name, **labels)


def api_login(client, email: str, password: str):
    return client.post("/api/auth/login", json={"email": email, "password": password})


# --- the guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [{"METRICS_TOKEN": None}], indirect=True)
def test_without_a_token_configured_the_endpoint_does_not_exist(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_a_missing_or_wrong_token_is_refused(client, header):
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"acs_" not in response.data


def test_the_right_token_gets_the_text_format(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert b"# TYPE acs_http_requests_total counter" in response.data


@pytest.mark.parametrize(
    "app_overrides",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "2 per minute"}],
    indirect=True,
)
def test_scrapes_are_never_rate_limited(client):
    for _ in range(6):
        scrape(client)
    # The default limit is in force elsewhere, so the exemption is what lets the scrapes in.
    statuses = [client.get("/").status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_production_refuses_a_short_token(make_app):
    from acs_auth.checks import UnsafeConfiguration
    from acs_auth.metrics import refuse_weak_token

    app = make_app(METRICS_TOKEN="short")
    app.config["ENV_NAME"] = "production"
    with pytest.raises(UnsafeConfiguration, match="METRICS_TOKEN"):
        refuse_weak_token(app)


# --- requests --------------------------------------------------------------------------------


def test_requests_are_counted_by_endpoint_never_by_path(client):
    delta = Delta(client)
    client.get("/login")
    client.get("/reset-password/some-secret-token-value")
    client.get("/no/such/page/ada@example.org")
    client.open("/login", method="BREW")

    assert delta("acs_http_requests_total", endpoint="auth.login", method="GET", status="200") == 1
    assert delta("acs_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert delta("acs_http_requests_total", endpoint="unmatched", method="other", status="405") == 1
    assert delta("acs_http_request_duration_seconds_count", endpoint="auth.login") >= 1
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).data
    assert b"some-secret-token-value" not in text and b"ada@example.org" not in text


# --- sign-ins and accounts -------------------------------------------------------------------


def test_sign_ins_by_outcome_and_channel_carry_no_email_or_ip(app, client, auth, make_user):
    make_user()
    make_user(email="off@example.org", active=False)
    delta = Delta(client)

    auth.login("ada@example.org")
    api_login(app.test_client(), "ada@example.org", STRONG_PASSWORD)
    api_login(app.test_client(), "ada@example.org", "wrong password, sorry")
    api_login(app.test_client(), "nobody@example.org", "wrong password, sorry")
    api_login(app.test_client(), "off@example.org", STRONG_PASSWORD)

    assert delta("acs_sign_ins_total", outcome="success", channel="browser") == 1
    assert delta("acs_sign_ins_total", outcome="success", channel="api") == 1
    assert delta("acs_sign_ins_total", outcome="bad_password", channel="api") == 1
    assert delta("acs_sign_ins_total", outcome="unknown_account", channel="api") == 1
    assert delta("acs_sign_ins_total", outcome="inactive", channel="api") == 1
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).data
    assert b"example.org" not in text and b"127.0.0.1" not in text


@pytest.mark.parametrize("app_overrides", [{"MAX_LOGIN_ATTEMPTS": 2}], indirect=True)
def test_a_lockout_and_the_locked_attempts_after_it(app, client, make_user):
    make_user()
    delta = Delta(client)
    for _ in range(3):
        api_login(app.test_client(), "ada@example.org", "wrong password, sorry")

    assert delta("acs_lockouts_total") == 1
    assert delta("acs_sign_ins_total", outcome="bad_password", channel="api") == 2
    assert delta("acs_sign_ins_total", outcome="locked", channel="api") == 1


@pytest.mark.parametrize(
    "app_overrides",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_PER_IDENTIFIER": "2 per minute"}],
    indirect=True,
)
def test_rate_limited_sign_ins_are_counted(app, client, auth, make_user):
    make_user()
    delta = Delta(client)
    statuses = [
        api_login(app.test_client(), "ada@example.org", "wrong password").status_code
        for _ in range(3)
    ]
    assert statuses[-1] == 429
    assert delta("acs_sign_ins_total", outcome="rate_limited", channel="api") == 1


def test_reset_links_requested_and_completed(app, client, outbox, make_user):
    make_user()
    delta = Delta(client)
    post_form(client, "/forgot-password", {"email": "ada@example.org"})
    post_form(client, "/forgot-password", {"email": "nobody@example.org"})
    link = outbox.link("ada@example.org", "/reset-password/")
    post_form(
        client,
        link,
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        form_url="/forgot-password",
    )

    assert delta("acs_password_links_total", purpose="reset", stage="requested") == 1
    assert delta("acs_password_links_total", purpose="reset", stage="unmatched") == 1
    assert delta("acs_password_links_total", purpose="reset", stage="completed") == 1


def test_registrations_started_and_completed(app, client, outbox, make_entry):
    make_entry()
    delta = Delta(client)
    register(client, "Hopper", "grace@example.org")
    register(client, "Nobody", "nobody@example.org")
    link = outbox.link("grace@example.org", "/register/password/")
    post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert delta("acs_registrations_total", stage="started") == 1
    assert delta("acs_registrations_total", stage="unmatched") == 1
    assert delta("acs_registrations_total", stage="completed") == 1


def test_refresh_token_reuse_is_counted(app, client, make_user):
    make_user()
    delta = Delta(client)
    api = app.test_client()
    first = api_login(api, "ada@example.org", STRONG_PASSWORD).get_json()
    api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    replay = api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert replay.status_code == 401
    assert delta("acs_refresh_token_reuse_total") == 1


def test_allowlist_imports_are_counted_by_mode(app, client, runner, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("last_name,email,lo_root_ids\nHopper,grace@example.org,P1\n")
    delta = Delta(client)
    assert runner.invoke(args=["allowlist", "import", str(path)]).exit_code == 0
    assert delta("acs_allowlist_imports_total", mode="merge") == 1


def test_an_action_that_rolls_back_counts_nothing(app, client, make_user):
    make_user()
    delta = Delta(client)
    with app.test_request_context():
        audit.record("account.locked")
        db.session.flush()
        db.session.rollback()
        audit.record("account.locked")
        db.session.commit()
    assert delta("acs_lockouts_total") == 1


# --- the outbox, read at scrape time ---------------------------------------------------------


def test_back_channel_logouts_waiting_for_a_client_are_counted(app, client):
    assert value(scrape(client), "acs_backchannel_logouts_pending") == 0

    def queue():
        registered = oidc_clients.register(
            "Chatbot",
            redirect_uris=["https://chat.example.org/callback"],
            backchannel_logout_uri="https://chat.example.org/backchannel",
        )
        pk = registered.client.id
        now = utcnow()
        for sent, failed in ((None, None), (None, None), (now, None), (None, now)):
            db.session.add(
                BackchannelLogout(
                    client_pk=pk,
                    uri="https://chat.example.org/backchannel",
                    logout_token="t",
                    sent_at=sent,
                    failed_at=failed,
                )
            )
        db.session.commit()

    read_db(app, queue)
    assert value(scrape(client), "acs_backchannel_logouts_pending") == 2  # sent, failed excluded


def test_outbox_depth_and_age_of_the_oldest_queued_message(app, client):
    assert value(scrape(client), "acs_mail_outbox_queued") == 0
    assert value(scrape(client), "acs_mail_outbox_oldest_age_seconds") == 0

    def queue():
        now = utcnow()
        for age, sent, failed in ((600, None, None), (60, None, None), (7200, now, None)):
            db.session.add(
                OutboxMessage(
                    to="x@example.org",
                    subject="s",
                    text="t",
                    created_at=now - timedelta(seconds=age),
                    sent_at=sent,
                    failed_at=failed,
                )
            )
        db.session.add(OutboxMessage(to="y@example.org", subject="s", text="t", failed_at=now))
        db.session.commit()

    read_db(app, queue)
    samples = scrape(client)
    assert value(samples, "acs_mail_outbox_up") == 1
    assert value(samples, "acs_mail_outbox_queued") == 3 - 1 + 0  # two waiting (sent excluded)
    assert 600 <= value(samples, "acs_mail_outbox_oldest_age_seconds") < 700
    assert value(samples, "acs_mail_outbox_failed") == 1

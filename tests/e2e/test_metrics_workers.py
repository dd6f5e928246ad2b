"""/metrics on gunicorn with two workers: every worker's counts are in every scrape."""

from __future__ import annotations

import os
import re
import signal

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.e2e import (
    api_login,
    bearer,
    in_parallel,
    random_secret,
    unique_email,
    wait_until,
)

TOKEN = random_secret()
PORTAL_SETTINGS = {"METRICS_TOKEN": TOKEN}
ATTEMPTS = 24


@pytest.fixture(scope="module")
def metrics_dir(workdir):
    folder = workdir / "prometheus"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def portal(deployment, metrics_dir):
    """One gunicorn, two workers, writing their metrics where the test can see the files."""
    return deployment.start(workers=2, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))


def scrape(url: str) -> dict:
    response = requests.get(url + "/metrics", headers=bearer(TOKEN), timeout=15)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def unknown_sign_ins(samples: dict) -> float:
    labels = frozenset({"outcome": "unknown_account", "channel": "api"}.items())
    return samples.get(("acs_sign_ins_total", labels), 0.0)


def writers(metrics_dir) -> set[int]:
    """The pids that wrote counters (prometheus_client names each file after its process)."""
    return {
        int(match.group(1))
        for name in os.listdir(metrics_dir)
        if (match := re.fullmatch(r"counter_(\d+)\.db", name))
    }


def test_a_scrape_sums_both_workers_and_keeps_a_dead_workers_counts(portal, metrics_dir):
    assert requests.get(portal.url + "/metrics", timeout=15).status_code == 401

    # Parallel attempts keep both sync workers busy, so both answer some of them.
    statuses = in_parallel(
        ATTEMPTS,
        lambda i: unique_email(f"nobody{i}"),
        lambda _i, email: api_login(portal.url, email, "not the password").status_code,
    )
    assert statuses == [401] * ATTEMPTS
    workers = set(portal.worker_pids())
    assert workers <= writers(metrics_dir) and len(workers) == 2, (workers, metrics_dir)

    # Whichever worker answers the scrape, it reports the sum of both.
    for _ in range(6):
        assert unknown_sign_ins(scrape(portal.url)) == ATTEMPTS

    # A worker that dies (or is recycled) takes none of its counts with it.
    os.kill(sorted(workers)[0], signal.SIGKILL)
    wait_until(lambda: len(set(portal.worker_pids()) - workers) == 1, 20, "the replacement worker")
    for _ in range(4):
        assert unknown_sign_ins(scrape(portal.url)) == ATTEMPTS
    output = requests.get(portal.url + "/metrics", headers=bearer(TOKEN), timeout=15).text
    assert "@" not in output and "127.0.0.1" not in output

"""gunicorn settings for acs_auth (`make serve`, or `gunicorn -c gunicorn.conf.py wsgi:app`).

Everything deployment-specific comes from the environment:
  BIND                 address to listen on (default 127.0.0.1:8000; behind a proxy keep it local)
  WEB_CONCURRENCY      worker processes (default 1; more than one needs a redis:// rate-limit
                       storage, which the app checks at start-up)
  GUNICORN_THREADS     threads per worker (default 1)
  GUNICORN_TIMEOUT     seconds before a silent worker is restarted (default 30)
  FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-Proto gunicorn trusts (default 127.0.0.1,::1);
                       the app reads it too, for X-Forwarded-For and X-Request-ID
  LOG_LEVEL            gunicorn's error-log level (default info)
  LOG_FORMAT           access log as one JSON object per line ("json", the default) or
                       Apache-style text ("text"); the app's own log lines follow the same setting
  PROMETHEUS_MULTIPROC_DIR  folder where every worker writes its metrics for /metrics to sum
                       (default: a fresh temporary folder, removed when gunicorn exits); an
                       operator's folder is emptied at start-up, so counters start from zero
"""

import atexit
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime

from gunicorn.glogging import Logger


def _metrics_dir() -> bool:
    """Point prometheus_client at a folder shared by the workers; True when made here.

    This runs before anything imports acs_auth (and so prometheus_client, which picks its
    multiprocess mode at import time). An operator's folder is emptied of an earlier run's files.
    """
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="acs-metrics-")
        return True
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.unlink(os.path.join(folder, name))
    return False


def _remove_own_metrics_dir(folder: str, owner: int) -> None:
    # Forked workers inherit this handler: only the process that made the folder removes it.
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


_OWN_METRICS_DIR = _metrics_dir()
if _OWN_METRICS_DIR:
    # Also when the master stops before on_exit (a refused start-up, an import error).
    atexit.register(_remove_own_metrics_dir, os.environ["PROMETHEUS_MULTIPROC_DIR"], os.getpid())

# Emailed-link tokens in paths and credentials in query strings never reach a log line.
from acs_auth.logs import redact  # noqa: E402  (after the metrics folder is set)

bind = [address.strip() for address in os.environ.get("BIND", "127.0.0.1:8000").split(",")]
workers = max(int(os.environ.get("WEB_CONCURRENCY", "1")), 1)
threads = max(int(os.environ.get("GUNICORN_THREADS", "1")), 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# The app is imported once in the master and the workers share its pages copy-on-write
# (nothing connects to the database or Redis at import). Recycling a worker every ~5,000
# requests bounds the slow RSS creep measured in docs/performance.md ("Worker memory").
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# gunicorn 27's control socket defaults to one path per user; several instances on one host
# would take it from each other, and nothing here uses it.
control_socket_disable = True
keepalive = 5
# Never "*": only the reverse proxy named by the operator may set the forwarded scheme.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_json = os.environ.get("LOG_FORMAT", "json").strip().lower() != "text"
# The text format; the request id is the X-Request-ID response header that acs_auth.security
# sets (or echoes), the same id as in the app's log lines and the audit rows.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms rid=%({x-request-id}o)s'
)


class RedactingLogger(Logger):
    """Gunicorn's logger with tokens removed from access lines, written as JSON by default."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms

    def access(self, resp, req, environ, request_time):
        if not access_log_json:
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": atoms.get("{x-request-id}o"),
            "remote_addr": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"] or None,
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 1),
            "referrer": None if atoms["f"] == "-" else atoms["f"],
            "user_agent": None if atoms["a"] == "-" else atoms["a"],
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


logger_class = RedactingLogger


def child_exit(server, worker):
    """A worker ended: its live gauges stop counting (its counters stay in the sums)."""
    # Imported here: prometheus_client picks its multiprocess mode when first imported, which
    # must happen after this file has set PROMETHEUS_MULTIPROC_DIR.
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder gunicorn made for itself (an operator's folder stays)."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def on_starting(server):
    """Tell the app how many workers run, so its start-up check sees the real figure.

    With preload_app the app was imported before this hook, so the production checks run
    again here with the real worker count; a refusal stops the master before any fork.
    """
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    if server.cfg.preload_app:
        # Lazy on purpose, as in child_exit: this file runs before acs_auth may be imported.
        from acs_auth.checks import refuse_weak_settings  # noqa: PLC0415

        refuse_weak_settings(server.app.wsgi())

"""Helpers the tests share, imported one way: ``from tests.support.<module> import <name>``.

In-process suites: config (settings, keys, ports), web (CSRF and the sign-in forms), mail (the
SMTP sink and the outbox helper), db (reading rows, emptying tables, counting statements),
browser (session helpers of the browser sign-in tests) and allowlist (CSV rows and files, the
entries table). End-to-end suites: e2e (processes, servers, API calls), deployment (a gunicorn
deployment and its database), watched (pages watched for errors, axe-core, the sign-in form)
and layout (the layout checks). Fixtures stay in the conftest.py files.
"""

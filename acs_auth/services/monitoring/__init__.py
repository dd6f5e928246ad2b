"""Monitoring for administrators: the dashboard's figures, the security view and its alerts.

The dashboard (dashboard), the security report and its charts (report, charts) and the alerts
written as signals happen (alerts). It may import models, extensions, metrics.events, the
audit, mail and allowlist services and signin.sessions; never views, blueprints or forms.
"""

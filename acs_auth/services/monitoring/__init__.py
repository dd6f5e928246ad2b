"""Monitoring for administrators: the dashboard's figures, the security view and its alerts.

The dashboard (dashboard), the security report and its charts (report, charts) and the alerts
written as signals happen (alerts). It may import models, extensions, metrics, and the audit,
mail, allowlist and text services; never views, blueprints or forms.
"""

"""Services: the logic that views, the API and the CLI share; one unit of work per call.

One package per capability: signin (credentials, sessions, API tokens and keys), accounts
(self-service, administration, passwords, emailed-link flows), allowlist (the CSV import and
its lifecycle), mail (the outbox and the senders that fill it), audit (the trail), programs
(the catalogue and who may use what), monitoring (dashboard, security view, alerts),
operations (CLI maintenance, demo data, the migration check) and text (address, name,
identifier and control-character rules); one module, paging, cuts the admin lists' keyset
pages. Services import models and extensions, never views or blueprints.
"""

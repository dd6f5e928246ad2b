"""Mail: the outbox every email goes through, the letters that fill it, the rounds that send it.

Which email fits which person and the links it carries (letters: registration, setup, reset,
already registered), the notices that keep people out of silent dead ends (notices), the queue
with its claims and back-off (outbox), SMTP and console delivery (transports), the delivery
rounds and the background sender above both (delivery), the administrator's view of the queue
(outbox_admin) and link requests answered off the request path (link_requests: pages store
them, delivery answers them). The outbox and the transports import no other service, and only
delivery (started by the app factory and by operations for the CLI) imports the transports,
so nothing that queues mail imports the code that sends it (pyproject.toml's contracts). It
may import models, extensions, messages, checks, the text and audit services, accounts
(tokens for the letters, recovery and registration for the link requests) and
signin.sessions; never views, blueprints or forms.
"""

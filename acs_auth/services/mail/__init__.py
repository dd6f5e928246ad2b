"""Mail: the outbox every email goes through, and the senders that fill it.

The outbox queue and its delivery (outbox), the administrator's view of it (outbox_admin),
link requests answered off the request path (link_requests) and the notices that keep people
out of silent dead ends (notices). It may import models, extensions, the text and audit
services, accounts (tokens and links, the link senders) and signin.sessions; never views,
blueprints or forms. The outbox itself imports no service: link_requests hands it the work to
run before each delivery round (outbox.add_producer).
"""

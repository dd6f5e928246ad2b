"""Mail: the outbox every email goes through, and the senders that fill it.

The outbox queue, its claims and back-off (outbox), SMTP and console delivery (transports),
the delivery rounds and the background sender above both (delivery), the administrator's view
of the queue (outbox_admin), link requests answered off the request path (link_requests) and
the notices that keep people out of silent dead ends (notices). Only delivery imports
link_requests, so nothing that queues mail imports the code that sends it. It may import
models, extensions, the text and audit services, accounts (the link senders) and
signin.sessions; never views, blueprints or forms.
"""

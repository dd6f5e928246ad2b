"""A real SMTP sink on loopback, and the outbox helper that delivers queued mail to it."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from acs_auth.services.mail import delivery as mail_service
from tests.support.config import free_port


class SmtpSink:
    """aiosmtpd handler that keeps every message it receives, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        self.messages.append(msg)
        return "250 OK"


class SmtpServer:
    """A real SMTP server on a loopback port that can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.sink = SmtpSink()
        self.controller = None

    def start(self):
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.sink.messages


class Outbox:
    """Delivers the queued mail through the real SMTP sink and finds links in it."""

    def __init__(self, app, smtp: SmtpServer):
        self.app = app
        self.smtp = smtp

    def deliver(self) -> list:
        with self.app.app_context():
            mail_service.send_pending()
        return self.smtp.messages

    @property
    def messages(self):
        return self.deliver()

    def to(self, address: str) -> list:
        return [m for m in self.deliver() if address.lower() in m["To"].lower()]

    def last_to(self, address: str):
        found = self.to(address)
        assert found, f"no email was sent to {address}"
        return found[-1]

    @staticmethod
    def text(msg) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()

    def link(self, address: str, path_prefix: str) -> str:
        """The path of the last link to ``address`` that starts with APP_URL + path_prefix."""
        base = self.app.config["APP_URL"]
        body = self.text(self.last_to(address))
        found = re.findall(re.escape(base + path_prefix) + r"[^\s<>\"]+", body)
        assert found, f"no {path_prefix} link in the email to {address}:\n{body}"
        return found[-1][len(base) :]

"""A small SMTP server on a local port for tests of what goes over the wire: it speaks enough of
RFC 5321 for Django's SMTP backend (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), counts the
connections it accepts and keeps each message's envelope recipients, and refuses at RCPT the
addresses it is told to refuse."""

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class SmtpRecord:
    connections: int = 0
    # Envelope recipients of each accepted message, in order.
    messages: list[list[str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    record: SmtpRecord

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        with self.record.lock:
            self.record.connections += 1
        self._reply("220 test ESMTP")
        recipients: list[str] = []
        while raw := self.rfile.readline():
            command = raw.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 test")
            elif verb == "MAIL":
                recipients = []
                self._reply("250 OK")
            elif verb == "RCPT":
                address = command.partition(":")[2].strip().strip("<>")
                if address in self.record.refuse:
                    self._reply("550 No such user")
                else:
                    recipients.append(address)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                with self.record.lock:
                    self.record.messages.append(recipients)
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                recipients = []
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def smtp_server_start() -> tuple[_Server, SmtpRecord]:
    record = SmtpRecord()
    handler = type("Handler", (_Handler,), {"record": record})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, record

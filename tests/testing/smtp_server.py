#!/usr/bin/python3
"""A real SMTP server for tests (aiosmtpd), on 127.0.0.1:PORT until SIGTERM.

Each accepted message N (1, 2, ...) is stored in DIR as N.env (the envelope: MAIL FROM on the first
line, then one RCPT TO per line) and N.eml (the raw bytes received), each written under a temporary
name and renamed, .eml last, so a reader that sees N.eml sees both files whole.

Recipients whose local part starts with "reject" are refused with 550, those starting with "busy"
with 451. With --auth USER:PASSWORD the server requires AUTH (PLAIN or LOGIN, without TLS).
"""
import argparse
import os
import signal
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class StoringHandler:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: no such user" % address
        if local.startswith("busy"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        lines = [envelope.mail_from] + list(envelope.rcpt_tos)
        write_atomically(base + ".env", ("\n".join(lines) + "\n").encode())
        write_atomically(base + ".eml", envelope.original_content)
        return "250 2.0.0 stored as %d" % self.count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("directory")
    parser.add_argument("--auth", default="")
    args = parser.parse_args()

    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and
                  auth_data.login.decode() == user and auth_data.password.decode() == password)
            # handled=False: aiosmtpd then answers a failure with 535 itself.
            return AuthResult(success=ok, handled=False)

        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller = Controller(StoringHandler(args.directory), hostname="127.0.0.1", port=args.port,
                            **options)
    controller.start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()

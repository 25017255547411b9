#!/usr/bin/python3
"""A real SMTP server for tests (aiosmtpd), on a free port of 127.0.0.1 until SIGTERM.

    smtp_server.py PORT_FILE DIR [--auth USER:PASSWORD]

It binds port 0 itself and then writes the port it got to PORT_FILE (under a temporary name,
renamed), so no other process can take the port between its choice and the bind.

Each accepted message N (1, 2, ...) is stored in DIR as N.env (the envelope: MAIL FROM on the first
line, then one RCPT TO per line) and N.eml (the raw bytes received), each written under a temporary
name and renamed, .eml last, so a reader that sees N.eml sees both files whole.

Recipients whose local part starts with "reject" are refused with 550, those starting with "busy"
with 451. With --auth USER:PASSWORD the server requires AUTH (PLAIN or LOGIN, without TLS).
"""
import argparse
import asyncio
import os
import signal
import socket

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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
    parser.add_argument("port_file")
    parser.add_argument("directory")
    parser.add_argument("--auth", default="")
    args = parser.parse_args()

    # As aiosmtpd's Controller sets it.
    options = {"enable_SMTPUTF8": True}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and
                  auth_data.login.decode() == user and auth_data.password.decode() == password)
            # handled=False: aiosmtpd then answers a failure with 535 itself.
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = StoringHandler(args.directory)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, **options), sock=listener))
    write_atomically(args.port_file, str(listener.getsockname()[1]).encode())
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()

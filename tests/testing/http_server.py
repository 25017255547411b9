#!/ usr / bin / python3
"""A real HTTP server for tests (http.server), on 127.0.0.1 at a port of its own choosing.

Writes the port to PORT_FILE (under a temporary name, then renamed) once it accepts connections.
Records every request before answering it, as one JSON line appended to LOG_FILE:
  {"method": "POST", "path": "/ok?x=1", "headers": [["Host", "..."], ...], "body_hex": "..."}
so a test that got its answer finds the request recorded.

Answers by path (the query string is ignored):
  /ok              200, JSON body, X-Request-Id and a Set-Cookie (which must not reach a result)
  /big             200, 100000 bytes of text (50000 times "ä")
  /busy            503 with Retry-After: 2
  /busy-date       429 with Retry-After as an HTTP-date two minutes ahead
  /rate-limited    429 with Retry-After: 3
  /throttled       429 without Retry-After
  /bad             400 with a JSON complaint
  /slow            sleeps 5 s, then 200
  /redirect        302 to http://10.0.0.1:PORT/ok (a private address)
  /redirect-local  302 to /ok (relative: the same server)
  /redirect-loop   302 to itself
  /redirect-other  302 to http://localhost:PORT/ok (the same server, another origin)
  /redirect-port   302 to http://127.0.0.1:9/ok (another port)
  /binary          200, bytes that are not UTF-8
  /files/NAME      200, the bytes of the file NAME in the folder files/ beside LOG_FILE (404 when
                   there is none)
  anything else    404
"""
import argparse
import email.utils
import http.server
import json
import os
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_lock = threading.Lock()

    def log_message(self, format, *args):
        pass

    def record(self, body):
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_hex": body.hex(),
        }
        with self.log_lock, open(self.server.log_file, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.record(body)
        path = self.path.split("?", 1)[0]
        port = self.server.server_address[1]
        if path == "/ok":
            self.answer(200, b'{"received":true}',
                        [("Content-Type", "application/json"), ("X-Request-Id", "req-42"),
                         ("Set-Cookie", "session=receiver-secret")])
        elif path == "/big":
            self.answer(200, ("ä" * 50000).encode(), [("Content-Type", "text/plain; charset=utf-8")])
        elif path == "/busy":
            self.answer(503, b"busy, come back later", [("Retry-After", "2")])
        elif path == "/busy-date":
            when = email.utils.formatdate(time.time() + 120, usegmt=True)
            self.answer(429, b"slow down", [("Retry-After", when)])
        elif path == "/rate-limited":
            self.answer(429, b"too many requests", [("Retry-After", "3")])
        elif path == "/throttled":
            self.answer(429, b"too many requests")
        elif path == "/bad":
            self.answer(400, b'{"error":"invalid payload"}', [("Content-Type", "application/json")])
        elif path == "/slow":
            time.sleep(5)
            self.answer(200, b"late")
        elif path == "/redirect":
            self.answer(302, b"", [("Location", "http://10.0.0.1:%d/ok" % port)])
        elif path == "/redirect-local":
            self.answer(302, b"", [("Location", "/ok")])
        elif path == "/redirect-loop":
            self.answer(302, b"", [("Location", "/redirect-loop")])
        elif path == "/redirect-other":
            self.answer(302, b"", [("Location", "http://localhost:%d/ok" % port)])
        elif path == "/redirect-port":
            self.answer(302, b"", [("Location", "http://127.0.0.1:9/ok")])
        elif path == "/binary":
            self.answer(200, b"ok \xff\xfe \xc3", [("Content-Type", "application/octet-stream")])
        elif path.startswith("/files/") and "/" not in path[len("/files/"):]:
            name = os.path.join(os.path.dirname(self.server.log_file), "files", path[7:])
            if os.path.isfile(name):
                with open(name, "rb") as f:
                    self.answer(200, f.read(), [("Content-Type", "application/octet-stream")])
            else:
                self.answer(404, b"not found")
        else:
            self.answer(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("log_file")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.log_file = args.log_file
    open(args.log_file, "w").close()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

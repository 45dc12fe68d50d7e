"""Local mode only: the HTTP server in front of the Chalice app, answering at its edges as API Gateway does.

Chalice's local server (``chalice.local``) runs the app as API Gateway's Lambda proxy would, but
its edges are those of Python's ``http.server``: HTML 501 pages for unusual methods, 405 for a
known path with a wrong method, OPTIONS answered on every route, a traceback for a malformed
``Content-Length``, no read timeout and a listen backlog of five. Here the same handler is
fronted as a deployed REST API (IAM authorisation, no CORS) answers:

- a method or path the API does not define: 403 ``{"message":"Missing Authentication Token"}``
  with ``x-amzn-ErrorType: MissingAuthenticationTokenException`` (API Gateway's
  MISSING_AUTHENTICATION_TOKEN response); OPTIONS is defined only where a route has CORS;
- malformed framing (a request line that does not parse, a ``Content-Length`` that is not one
  non-negative number, ``Content-Length`` together with ``Transfer-Encoding``, broken chunks): 400;
- a body over API Gateway's 10 MB payload quota: 413 ``{"message":"Request Too Long"}``;
- a request that stops arriving: its line and headers must arrive within ``READ_SECONDS`` of the
  wait for them (else the connection is closed without an answer, as for an idle keep-alive
  connection), and its body within ``READ_SECONDS`` of the headers (else 408; 400 when the
  client closed its side early). So no client holds a thread longer, however it paces its bytes.

Every answer the edge gives is JSON and closes the connection after a short lingering drain,
so the client reads the answer rather than a reset. Requests that pass go to Chalice's handler
unchanged (same routes, headers and body; a chunked body arrives whole), one thread each.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
import uuid
from io import BufferedIOBase, BufferedReader
from typing import Any, cast

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    HeaderType,
    LocalChalice,
    LocalDevServer,
    RouteMatcher,
    ThreadedHTTPServer,
)

log = logging.getLogger("mlops.local.http")

# API Gateway's REST API payload quota (10 MB, not adjustable).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Longest wait for any one read from a client, and for a whole request body.
READ_SECONDS = 10.0
# After a refusal: how long to read and discard what the client still sends before closing.
LINGER_SECONDS = 2.0
# Pending connections the kernel queues before the server accepts them.
LISTEN_BACKLOG = 128
# Longest chunk-size line of a chunked body.
MAX_CHUNK_LINE = 1024

MISSING_TOKEN = "Missing Authentication Token"
MISSING_TOKEN_TYPE = "MissingAuthenticationTokenException"


class Refusal(Exception):
    """A request the edge answers itself: status, message and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def bad_request(reason: str) -> Refusal:
    return Refusal(400, f"Bad Request: {reason}")


class EdgeServer(ThreadedHTTPServer):
    """Chalice's threaded server with a listen backlog that takes bursts, and daemon threads."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client went away or stopped reading
            log.info("connection from %s ended: %r", client_address, error)
            return
        super().handle_error(request, client_address)


class DeadlineReader(BufferedIOBase):
    """A connection's buffered reader whose reads all end by one deadline (the handler sets it).

    A socket timeout alone bounds each receive, not a request that arrives a byte at a time;
    here a line is read one receive at a time, each bounded by what is left of the deadline.
    """

    def __init__(self, buffered: BufferedReader, connection: socket.socket) -> None:
        super().__init__()
        self._buffered, self._connection = buffered, connection
        self.deadline = time.monotonic() + READ_SECONDS

    def _bound(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._connection.settimeout(min(READ_SECONDS, left))

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1, /) -> bytes:
        self._bound()
        return self._buffered.read1(size)

    def readline(self, limit: int | None = -1, /) -> bytes:
        limit = -1 if limit is None else limit
        line = bytearray()
        while limit < 0 or len(line) < limit:
            self._bound()
            available = self._buffered.peek(1)  # at most one receive, when nothing is buffered
            if not available:
                break
            want = len(available) if limit < 0 else min(len(available), limit - len(line))
            end = available.find(b"\n", 0, want)
            line += self._buffered.read(end + 1 if end >= 0 else want)  # already buffered
            if end >= 0:
                break
        return bytes(line)

    @property
    def closed(self) -> bool:
        return self._buffered.closed

    def close(self) -> None:
        self._buffered.close()


class EdgeRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler behind API Gateway's edge behaviour (see the module's docstring)."""

    timeout = READ_SECONDS  # StreamRequestHandler sets it on the socket (writes are bounded too)
    rfile: BufferedIOBase  # a DeadlineReader once set up

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config) -> None:
        # BaseRequestHandler handles the connection inside __init__: set up state first.
        self._routes = app_object.routes
        self._matcher = RouteMatcher(list(app_object.routes))
        self._body: bytes | None = None
        self._length = 0
        self._chunked = False
        self._screened: bool | None = None
        self._linger = False
        super().__init__(request, client_address, server, app_object, config)

    def setup(self) -> None:
        super().setup()
        self._reader = DeadlineReader(cast(BufferedReader, self.rfile), self.connection)
        self.rfile = self._reader

    # -- before the body: request line, headers, route ----------------------------------

    def handle_one_request(self) -> None:
        # The request line and headers must arrive within READ_SECONDS of the wait for them.
        self._reader.deadline = time.monotonic() + READ_SECONDS
        super().handle_one_request()

    def parse_request(self) -> bool:
        self._screened, self._body, self._length, self._chunked = None, None, 0, False
        words = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n").split()
        if len(words) != 3:  # METHOD TARGET VERSION; HTTP/0.9 requests are not served either
            self.requestline, self.request_version, self.command = " ".join(words), self.protocol_version, ""
            self._refuse(bad_request("the request line does not parse"))
            return False
        # The base class answers malformed versions and headers through send_error (below), and
        # calls handle_expect_100 (below) before returning True.
        return super().parse_request() and self._screen()

    def handle_expect_100(self) -> bool:
        """Refuse before inviting the body of a request that will be refused."""
        return self._screen() and super().handle_expect_100()

    def _screen(self) -> bool:
        if self._screened is None:
            try:
                self._check_framing()
                self._check_route()
                self._screened = True
            except Refusal as refusal:
                self._refuse(refusal)
                self._screened = False
        return self._screened

    def _check_framing(self) -> None:
        lengths = self.headers.get_all("Content-Length") or []
        encodings = self.headers.get_all("Transfer-Encoding") or []
        if lengths and encodings:
            raise bad_request("both Content-Length and Transfer-Encoding")
        if encodings:
            codings = [c.strip().lower() for c in ",".join(encodings).split(",")]
            if codings != ["chunked"]:
                raise bad_request("the only Transfer-Encoding served is chunked")
            self._chunked = True
        if lengths:
            values = {v.strip() for v in lengths}
            value = values.pop()
            if values or not (value.isascii() and value.isdigit()):
                raise bad_request("Content-Length is not one non-negative number")
            self._length = int(value)
            if self._length > MAX_PAYLOAD_BYTES:
                raise Refusal(413, "Request Too Long")

    def _check_route(self) -> None:
        try:
            route = self._matcher.match_route(self.path).route
        except ValueError:
            route = None
        views = self._routes.get(route, {}) if route is not None else {}
        defined = self.command in views or (
            self.command == "OPTIONS" and any(getattr(v, "cors", None) for v in views.values())
        )
        if not defined:
            raise Refusal(403, MISSING_TOKEN, {"x-amzn-ErrorType": MISSING_TOKEN_TYPE})

    # -- the body ------------------------------------------------------------------------

    def _generic_handle(self) -> None:
        try:
            self._body = self._read_body()
        except Refusal as refusal:
            self._refuse(refusal)
            return
        super()._generic_handle()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _parse_payload(self) -> tuple[HeaderType, bytes | None]:
        return dict(self.headers), self._body

    def _read_body(self) -> bytes | None:
        """The body, which must arrive within READ_SECONDS of its headers."""
        self._reader.deadline = time.monotonic() + READ_SECONDS
        try:
            if self._chunked:
                return self._read_chunked()
            return self._read_exactly(self._length) if self._length else None
        except TimeoutError:
            raise Refusal(408, "Request Timeout") from None
        finally:
            self.connection.settimeout(READ_SECONDS)  # for the answer, whatever the deadline left

    def _read_exactly(self, size: int) -> bytes:
        parts: list[bytes] = []
        while size:
            part = self._reader.read1(min(size, 65536))
            if not part:
                raise bad_request("the body is shorter than its Content-Length")
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def _read_line(self) -> bytes:
        line = self._reader.readline(MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\n") or len(line) > MAX_CHUNK_LINE:
            raise bad_request("a chunked body is malformed")
        return line

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip()
            if not size_text or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                raise bad_request("a chunk size is not a hexadecimal number")
            size = int(size_text, 16)
            if size == 0:
                while self._read_line().strip():  # trailer fields, ignored
                    pass
                return bytes(body)
            if len(body) + size > MAX_PAYLOAD_BYTES:
                raise Refusal(413, "Request Too Long")
            body += self._read_exactly(size)
            if self._read_exactly(2) != b"\r\n":
                raise bad_request("a chunk does not end with CRLF")

    # -- answers -------------------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (versions, header lines, URI length) as JSON."""
        if self.request_version in ("", "HTTP/0.9"):
            self.request_version = self.protocol_version  # so the answer has a status line
        reason = message or self.responses.get(code, ("Error",))[0]
        self._refuse(Refusal(code, reason if code != 400 else f"Bad Request: {reason}"))

    def _refuse(self, refusal: Refusal) -> None:
        body = json.dumps({"message": refusal.message}, separators=(",", ":")).encode()
        self.close_connection = True
        self._linger = True
        try:
            self.connection.settimeout(READ_SECONDS)
            self.send_response(refusal.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in refusal.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self._linger = False  # the client is gone

    def finish(self) -> None:
        super().finish()
        if self._linger:
            self._drain()

    def _drain(self) -> None:
        """Close as servers do after refusing a request whose body may still be arriving: stop
        writing, then discard what comes for a moment, so the client reads the answer instead
        of a connection reset."""
        deadline = time.monotonic() + LINGER_SECONDS
        try:
            self.connection.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break
        except OSError:
            pass


def per_thread_requests(app: Chalice) -> None:
    """What ``chalice.local.create_local_server`` does to the app it serves: make it Chalice's
    local subclass, which keeps ``current_request`` per thread, since requests run side by side."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice


def create_server(app: Chalice, handler_app: Any, config: Config, host: str, port: int) -> LocalDevServer:
    """A server (not yet serving) for ``app``, whose request handlers call ``handler_app``.

    ``app`` is the Chalice app itself (it gets per-thread request state); ``handler_app`` is
    what the handlers call: the app, or a wrapper exposing the app's attributes.
    """
    per_thread_requests(app)
    return LocalDevServer(handler_app, config, host, port, handler_cls=EdgeRequestHandler, server_cls=EdgeServer)

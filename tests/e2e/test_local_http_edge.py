"""End to end: `mlops local` answers at the HTTP edge as the deployed REST API does.

Raw sockets against one local-mode process, whose stderr is kept so that tests can check that
no request leaves a traceback. Every wait is bounded by a socket timeout and a deadline.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlops_local.http_edge import MAX_PAYLOAD_BYTES, READ_SECONDS
from mlops_local.process import _die_with_parent

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# Longest wait for an answer the server gives at once.
PROMPT = 10.0
# Longest wait for an answer the server gives after its read timeout.
AFTER_TIMEOUT = READ_SECONDS + 10.0


@dataclass
class Local:
    port: int
    process: subprocess.Popen[str]
    stderr: Path

    def errors(self) -> str:
        return self.stderr.read_text(errors="replace")


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    stderr = tmp_path_factory.mktemp("local") / "stderr.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlops_cli.main", "local", "--port", "0"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
    assert process.stdout is not None
    api = next((line.split(" ", 1)[1].strip() for line in process.stdout if line.startswith("API: ")), None)
    try:
        assert api, f"mlops local printed no API URL: {stderr.read_text()}"
        yield Local(int(api.rsplit(":", 1)[1]), process, stderr)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            process.stdout.close()


@dataclass
class Answer:
    status: int | None  # None: the connection ended without an answer
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> object:
        return json.loads(self.body)


def parse(raw: bytes) -> Answer:
    if not raw:
        return Answer(None)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("iso-8859-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return Answer(int(status_line.split()[1]), headers, body)


def read_all(sock: socket.socket, deadline: float) -> bytes:
    """Everything until the server closes the connection (or the deadline passes: a failure)."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no end of answer in time; got {b''.join(chunks)[:200]!r}"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(local: Local, raw: bytes, wait: float = PROMPT, half_close: bool = False) -> Answer:
    deadline = time.monotonic() + wait
    with socket.create_connection((HOST, local.port), timeout=wait) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return parse(read_all(sock, deadline))


def request(method: str, target: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    "method, target",
    [
        ("TRACE", "/"),
        ("CONNECT", f"{HOST}:443"),
        ("PROPFIND", "/pipelines"),
        ("OPTIONS", "/provisionpipeline"),  # no route has CORS
        ("PUT", "/provisionpipeline"),  # a known path with a wrong method
        ("GET", "/pipelinestatus"),
        ("PATCH", "/pipelines/some-pipeline"),
        ("GET", "/no/such/route"),
    ],
)
def test_a_method_or_path_the_api_does_not_define_is_a_missing_authentication_token(
    local: Local, method: str, target: str
) -> None:
    answer = exchange(local, request(method, target))
    assert answer.status == 403
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_a_head_request_is_refused_without_a_body(local: Local) -> None:
    answer = exchange(local, request("HEAD", "/pipelines"))
    assert (answer.status, answer.body) == (403, b"")
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    "raw",
    [
        request("POST", "/pipelinestatus", "Content-Length: abc", body=b"{}"),
        request("POST", "/pipelinestatus", "Content-Length: -1", body=b"{}"),
        request("POST", "/pipelinestatus", "Content-Length: 2", "Content-Length: 3", body=b"{}"),
        request("POST", "/pipelinestatus", "Content-Length: 2", "Transfer-Encoding: chunked", body=b"{}"),
        request("POST", "/pipelinestatus", "Transfer-Encoding: chunked", body=b"zz\r\n{}\r\n0\r\n\r\n"),
        b"GARBAGE\r\n\r\n",
        b"GET /pipelines HTTP/1.1 extra\r\n\r\n",
        b"GET /pipelines\r\n\r\n",  # HTTP/0.9
        b"GET /pipelines HTTP/x.y\r\n\r\n",
    ],
    ids=[
        "non-numeric-length", "negative-length", "two-lengths", "length-and-chunked", "bad-chunk-size",
        "one-word-line", "four-word-line", "http-0.9", "bad-version",
    ],
)  # fmt: skip
def test_malformed_framing_is_a_json_400_without_a_traceback(local: Local, raw: bytes) -> None:
    answer = exchange(local, raw)
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["connection"] == "close"
    message = answer.json()
    assert isinstance(message, dict) and str(message["message"]).startswith("Bad Request")
    assert "Traceback" not in local.errors()


def test_a_body_over_the_payload_quota_is_refused_before_it_is_read(local: Local) -> None:
    # Only the headers are sent: the answer must not wait for the body.
    answer = exchange(local, request("POST", "/provisionpipeline", f"Content-Length: {MAX_PAYLOAD_BYTES + 1}"))
    assert answer.status == 413
    assert answer.json() == {"message": "Request Too Long"}


def test_a_chunked_body_reaches_the_app(local: Local) -> None:
    body = json.dumps({"pipeline_id": "mlops-pipeline-no-such-thing"}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:])) + b"0\r\n\r\n"
    answer = exchange(local, request("POST", "/pipelinestatus", "Transfer-Encoding: chunked", body=chunked))
    assert answer.status == 404, answer.body  # the app read the pipeline id and found no such pipeline


def test_a_body_cut_short_by_the_client_is_a_400(local: Local) -> None:
    answer = exchange(local, request("POST", "/pipelinestatus", "Content-Length: 100", body=b"{}"), half_close=True)
    assert answer.status == 400
    assert answer.json() == {"message": "Bad Request: the body is shorter than its Content-Length"}


def test_stalled_clients_are_let_go_after_the_read_timeout_while_others_are_served(local: Local) -> None:
    started = time.monotonic()
    deadline = started + AFTER_TIMEOUT
    short_body = socket.create_connection((HOST, local.port), timeout=PROMPT)
    half_headers = socket.create_connection((HOST, local.port), timeout=PROMPT)
    with short_body, half_headers:
        short_body.sendall(request("POST", "/pipelinestatus", "Content-Length: 100", body=b'{"pipeline_id": '))
        half_headers.sendall(b"POST /pipelinestatus HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        served = exchange(local, request("GET", "/openapi.json"))
        assert served.status == 200  # the stalled connections hold nothing up
        timed_out = parse(read_all(short_body, deadline))
        assert timed_out.status == 408 and timed_out.json() == {"message": "Request Timeout"}
        assert parse(read_all(half_headers, deadline)).status is None  # closed without an answer
    assert time.monotonic() - started >= READ_SECONDS - 1


def test_a_client_sending_its_headers_a_byte_at_a_time_is_let_go_at_the_deadline(local: Local) -> None:
    """Each byte comes well within the read timeout; the request as a whole does not."""
    started = time.monotonic()
    with socket.create_connection((HOST, local.port), timeout=PROMPT) as sock:
        sock.sendall(b"POST /pipelinestatus HTTP/1.1\r\nX-Slow: ")
        closed = False
        while not closed and time.monotonic() - started < AFTER_TIMEOUT:
            try:
                sock.sendall(b"a")
            except OSError:  # the server closed while the byte was on its way
                closed = True
                break
            # The next byte goes when the server has not ended the connection within a second.
            if select.select([sock], [], [], 1.0)[0]:
                try:
                    closed = sock.recv(65536) == b""
                except ConnectionResetError:
                    closed = True
        assert closed, "the server still waits for the headers"
    assert READ_SECONDS - 1 <= time.monotonic() - started < READ_SECONDS + 5


def test_fifty_simultaneous_connects_are_all_queued_and_answered(local: Local) -> None:
    """All handshakes complete at once (a listen backlog too short drops SYNs, which clients
    resend only after a second), and every connection gets its answer."""
    count, handshake_limit = 50, 0.9
    sockets = [socket.socket() for _ in range(count)]
    try:
        with selectors.DefaultSelector() as selector:
            started = time.monotonic()
            for sock in sockets:
                sock.setblocking(False)
                sock.connect_ex((HOST, local.port))
                selector.register(sock, selectors.EVENT_WRITE)
            pending = set(sockets)
            while pending and (left := started + handshake_limit - time.monotonic()) > 0:
                for key, _ in selector.select(left):
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    assert ready.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                    selector.unregister(ready)
                    pending.discard(ready)
            assert not pending, f"{len(pending)} of {count} connects were not accepted within {handshake_limit} s"
        deadline = time.monotonic() + PROMPT * 3
        for sock in sockets:
            sock.setblocking(True)
            sock.sendall(request("GET", "/openapi.json"))
        statuses = [parse(read_all(sock, deadline)).status for sock in sockets]
        assert statuses == [200] * count
    finally:
        for sock in sockets:
            sock.close()

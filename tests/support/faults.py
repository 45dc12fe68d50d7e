"""Record and break the AWS calls the orchestrator makes, through botocore's event hooks.

:class:`CallTap` hooks the orchestrator's clients (``chalicelib.aws.client``) with three
hooks: ``before-call`` counts and names each call, ``before-send`` answers the chosen call with a
fault instead of sending it, and ``after-call`` can lose the answer of a call that reached the
emulator and succeeded. A call is chosen either by its place (one run without a fault lists the
calls a request makes; replaying the request with ``at=N`` breaks the Nth of them) or by what it
is (``where=Where(service, operation, text)``: the first such call whose URL or body holds the
text). :func:`fault` is the second form as a context manager on one service's client.

Faults are made the way AWS makes them: an HTTP error response in the service's own protocol
(so botocore parses it as it would parse AWS's; a HEAD answer has no body, so its error code
is the status code), or botocore's own ``ReadTimeoutError``. The orchestrator's retries are
whatever ``AWS_MAX_ATTEMPTS`` allows (the tests set 1): a fault here is what a caller sees once
botocore has given up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

HOOK_ID = "tests-support-faults"


@dataclass(frozen=True)
class Fault:
    """One kind of failure: an error answer (code and status per protocol) or a lost answer."""

    name: str
    s3: tuple[str, int] | None = None  # (code, status) for S3's REST-XML
    query: tuple[str, int] | None = None  # CloudFormation, SNS, STS, IAM
    json: tuple[str, int] | None = None  # JSON and REST-JSON services
    timeout_before: bool = False  # the request never reaches the service
    timeout_after: bool = False  # the service did the work; the answer is lost

    @property
    def transient(self) -> bool:
        """A fault that a later attempt of the same call may not meet (all but AccessDenied)."""
        return self.name != "access_denied"

    def error_for(self, protocol: str) -> tuple[str, int]:
        found = {"rest-xml": self.s3, "query": self.query}.get(protocol, self.json)
        assert found is not None, f"fault {self.name} has no error answer"
        return found


THROTTLE = Fault("throttle", s3=("SlowDown", 503), query=("Throttling", 400), json=("ThrottlingException", 400))
SERVER_ERROR = Fault(
    "server_error", s3=("InternalError", 500), query=("InternalFailure", 500), json=("InternalError", 500)
)
ACCESS_DENIED = Fault(
    "access_denied", s3=("AccessDenied", 403), query=("AccessDenied", 403), json=("AccessDeniedException", 400)
)
TIMEOUT_BEFORE = Fault("timeout_before", timeout_before=True)
TIMEOUT_AFTER = Fault("timeout_after", timeout_after=True)
FAULTS = (THROTTLE, SERVER_ERROR, ACCESS_DENIED, TIMEOUT_BEFORE, TIMEOUT_AFTER)
BY_NAME = {f.name: f for f in FAULTS}


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def error_response(url: str, method: str, protocol: str, code: str, status: int) -> AWSResponse:
    """An error answer as the service would send it."""
    message = f"injected {code}"
    headers: dict[str, str] = {"x-amzn-requestid": "injected"}
    if protocol == "rest-xml":
        body = b"" if method == "HEAD" else (f"<Error><Code>{code}</Code><Message>{message}</Message></Error>").encode()
        headers["Content-Type"] = "application/xml"
    elif protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>injected</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
    return AWSResponse(url, status, headers, _Raw(body))


@dataclass
class Call:
    service: str
    operation: str

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}"


@dataclass(frozen=True)
class Where:
    """A call chosen by what it is: the first ``service`` ``operation`` whose URL or body holds ``text``."""

    service: str
    operation: str
    text: str = ""

    def matches(self, call: Call, request: Any) -> bool:
        if (call.service, call.operation) != (self.service, self.operation):
            return False
        body = request.body
        sent = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
        return self.text in request.url or self.text in sent


_HOOKS = ("before-call", "before-send", "after-call")


@dataclass
class CallTap:
    """The hooks on the orchestrator's clients: a list of the calls made, and at most one fault.

    ``fault_at`` counts calls from 0 in the order they were made since the tap was armed;
    ``where`` chooses the first call it matches instead. ``fired`` counts the faults injected.
    """

    calls: list[Call] = field(default_factory=list)
    fault: Fault | None = None
    fault_at: int | None = None
    where: Where | None = None
    injected: Call | None = None
    fired: int = 0
    _current: tuple[Call, Any] | None = None
    _pending: tuple[Fault, Any] | None = None
    _lose_answer: bool = False
    _hooked: set[int] = field(default_factory=set)

    def arm(self, fault: Fault | None = None, at: int | None = None, where: Where | None = None) -> None:
        """Start a new list of calls; break call number ``at``, or the first call ``where`` matches, with ``fault``."""
        self.calls = []
        self.fault, self.fault_at, self.where, self.injected, self.fired = fault, at, where, None, 0
        self._current, self._pending, self._lose_answer = None, None, False

    def disarm(self) -> None:
        self.fault, self.fault_at, self.where = None, None, None

    def hook(self, client: Any) -> Any:
        if id(client) not in self._hooked:
            events = client.meta.events
            handlers = (self._before_call, self._before_send, self._after_call)
            for event, handler in zip(_HOOKS, handlers, strict=True):
                events.register(event, handler, unique_id=f"{HOOK_ID}-{event}")
            self._hooked.add(id(client))
        return client

    def unhook(self, client: Any) -> None:
        for event in _HOOKS:
            client.meta.events.unregister(event, unique_id=f"{HOOK_ID}-{event}")
        self._hooked.discard(id(client))

    def _inject(self, call: Call, fault: Fault, model: Any) -> None:
        self.injected = call
        if fault.timeout_after:
            self._lose_answer = True
        else:
            self._pending = (fault, model)

    def _before_call(self, model: Any, **_: Any) -> None:
        call = Call(model.service_model.service_name, model.name)
        index = len(self.calls)
        self.calls.append(call)
        self._current = (call, model)
        if self.fault is not None and index == self.fault_at:
            self._inject(call, self.fault, model)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.where is not None and self.fault is not None and self.injected is None and self._current:
            call, model = self._current
            if self.where.matches(call, request):
                self._inject(call, self.fault, model)
        if self._pending is None:
            return None
        fault, model = self._pending
        self._pending = None
        self.fired += 1
        if fault.timeout_before:
            raise ReadTimeoutError(endpoint_url=request.url)
        protocol = model.service_model.protocol
        code, status = fault.error_for(protocol)
        return error_response(request.url, request.method, protocol, code, status)

    def _after_call(self, http_response: Any, **_: Any) -> None:
        if self._lose_answer:
            self._lose_answer = False
            self.fired += 1
            raise ReadTimeoutError(endpoint_url=getattr(http_response, "url", "") or "the service")


@contextmanager
def fault(service: str, operation: str, text: str, kind: Fault) -> Iterator[CallTap]:
    """Break the first ``service`` ``operation`` of the orchestrator whose URL or body holds ``text``.

    Yields the tap, whose ``fired`` tells a test that the call it meant was made.
    """
    from chalicelib import aws

    tap = CallTap()
    client = tap.hook(aws.client(service))
    tap.arm(kind, where=Where(service, operation, text))
    try:
        yield tap
    finally:
        tap.unhook(client)

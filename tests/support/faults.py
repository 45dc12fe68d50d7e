"""Record and break the AWS calls the orchestrator makes, through botocore's event hooks.

:class:`CallTap` wraps ``chalicelib.aws.client`` so that every client the orchestrator uses
carries three hooks: ``before-call`` counts and names each call, ``before-send`` answers the
chosen call with a fault instead of sending it, and ``after-call`` can lose the answer of a call
that reached the emulator and succeeded. One run without a fault lists the calls a request
makes; replaying the request with ``fault_at=N`` breaks the Nth of them.

Faults are made the way AWS makes them: an HTTP error response in the service's own protocol
(so botocore parses it as it would parse AWS's; a HEAD answer has no body, so its error code
is the status code), or botocore's own ``ReadTimeoutError``. The orchestrator's retries are
whatever ``AWS_MAX_ATTEMPTS`` allows (the tests set 1): a fault here is what a caller sees once
botocore has given up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    "server_error", s3=("InternalError", 500), query=("InternalError", 500), json=("InternalError", 500)
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


@dataclass
class CallTap:
    """The hooks on the orchestrator's clients: a list of the calls made, and at most one fault.

    ``fault_at`` counts calls from 0 in the order they were made since the tap was armed.
    """

    calls: list[Call] = field(default_factory=list)
    fault: Fault | None = None
    fault_at: int | None = None
    injected: Call | None = None
    _pending: tuple[Fault, Any] | None = None
    _lose_answer: bool = False
    _hooked: set[int] = field(default_factory=set)

    def arm(self, fault: Fault | None = None, at: int | None = None) -> None:
        """Start a new list of calls; break call number ``at`` with ``fault``."""
        self.calls = []
        self.fault, self.fault_at, self.injected = fault, at, None
        self._pending, self._lose_answer = None, False

    def disarm(self) -> None:
        self.fault, self.fault_at = None, None

    def hook(self, client: Any) -> Any:
        if id(client) not in self._hooked:
            events = client.meta.events
            events.register("before-call", self._before_call, unique_id=f"{HOOK_ID}-call")
            events.register("before-send", self._before_send, unique_id=f"{HOOK_ID}-send")
            events.register("after-call", self._after_call, unique_id=f"{HOOK_ID}-after")
            self._hooked.add(id(client))
        return client

    def _before_call(self, model: Any, **_: Any) -> None:
        call = Call(model.service_model.service_name, model.name)
        index = len(self.calls)
        self.calls.append(call)
        if self.fault is not None and index == self.fault_at:
            self.injected = call
            if self.fault.timeout_after:
                self._lose_answer = True
            else:
                self._pending = (self.fault, model)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if self._pending is None:
            return None
        fault, model = self._pending
        self._pending = None
        if fault.timeout_before:
            raise ReadTimeoutError(endpoint_url=request.url)
        protocol = model.service_model.protocol
        code, status = fault.error_for(protocol)
        return error_response(request.url, request.method, protocol, code, status)

    def _after_call(self, http_response: Any, **_: Any) -> None:
        if self._lose_answer:
            self._lose_answer = False
            raise ReadTimeoutError(endpoint_url=getattr(http_response, "url", "") or "the service")

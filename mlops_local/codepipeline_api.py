"""A local stand-in for the CodePipeline API calls the orchestrator makes.

boto3 sends CodePipeline calls to ``AWS_ENDPOINT_URL_CODEPIPELINE`` when it is set; local
mode points it here, so the orchestrator reads pipeline state (``GetPipelineState``), records
approvals (``PutApprovalResult``) and starts runs (``StartPipelineExecution``, through the
store's ``starter``) exactly as it does in AWS. Served from the executor's store;
unknown calls get CodePipeline-style errors.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .executor import Store

TARGET_PREFIX = "CodePipeline_20150709."


def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                request = {}
            operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
            if operation == "GetPipelineState":
                state = store.state(str(request.get("name", "")))
                if state is None:
                    self._reply(
                        400,
                        {"__type": "PipelineNotFoundException", "message": f"pipeline {request.get('name')} not found"},
                    )
                else:
                    self._reply(200, state)
                return
            if operation == "PutApprovalResult":
                result = request.get("result") or {}
                decided = store.decide(
                    str(request.get("pipelineName", "")),
                    str(request.get("stageName", "")),
                    str(request.get("actionName", "")),
                    str(request.get("token", "")),
                    str(result.get("status", "")),
                    str(result.get("summary", "")),
                )
                if decided:
                    self._reply(200, {"approvedAt": time.time()})
                else:
                    message = "no approval waits with that pipeline, stage, action and token"
                    self._reply(400, {"__type": "InvalidApprovalTokenException", "message": message})
                return
            if operation == "StartPipelineExecution" and store.starter is not None:
                name = str(request.get("name", ""))
                try:
                    self._reply(200, {"pipelineExecutionId": store.starter(name)})
                except LookupError:
                    self._reply(400, {"__type": "PipelineNotFoundException", "message": f"pipeline {name} not found"})
                return
            self._reply(400, {"__type": "UnknownOperationException", "message": f"local mode has no {operation}"})

    return Handler


class CodePipelineEndpoint:
    def __init__(self, store: Store, host: str = "127.0.0.1") -> None:
        self.server = ThreadingHTTPServer((host, 0), _handler(store))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="codepipeline-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

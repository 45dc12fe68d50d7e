"""``make demo``: provision a real-time pipeline on this machine, no AWS account needed.

Starts an embedded AWS emulator (moto) on a free local port, creates the control plane's
buckets and topic and installs the blueprints, sends a provision request to the
orchestrator app, runs the pipeline's stages against the emulator, and prints the
pipeline's status document and the SageMaker resources it deployed.
"""

from __future__ import annotations

import json
import os
import sys

from .bootstrap import ROOT, ControlPlane

EXAMPLE = ROOT / "tests/events/valid/byom_realtime_builtin.json"


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def quiet_emulator() -> None:
    """The emulator logs every request and each resource type it skips; keep the demo readable."""
    import logging
    import warnings

    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse")


def main() -> int:
    import boto3
    from moto.server import ThreadedMotoServer

    quiet_emulator()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        plane = ControlPlane()
        os.environ.update(
            {
                **plane.env(),
                "AWS_ENDPOINT_URL": f"http://{host}:{port}",
                "AWS_ACCESS_KEY_ID": "demo",
                "AWS_SECRET_ACCESS_KEY": "demo",
                "AWS_MAX_ATTEMPTS": "1",
            }
        )
        session = boto3.session.Session(region_name=plane.region)
        _step(f"emulator at http://{host}:{port}; bootstrapping the control plane")
        plane.bootstrap(session)
        print(f"assets bucket: {plane.assets_bucket}\nconfig bucket: {plane.config_bucket}")

        sys.path.insert(0, str(ROOT / "orchestrator_api"))
        from chalice.test import Client

        from app import app

        from .runner import run

        body = EXAMPLE.read_text()
        with Client(app) as client:
            _step(f"POST /provisionpipeline with {EXAMPLE.relative_to(ROOT)}")
            answer = client.http.post("/provisionpipeline", body=body, headers={"Content-Type": "application/json"})
            provisioned = json.loads(answer.body)
            print(answer.status_code, json.dumps(provisioned, indent=2))
            if answer.status_code != 200:
                return 1

            _step("the same body again: nothing changes")
            again = json.loads(client.http.post("/provisionpipeline", body=body).body)
            print(f"changed: {again['changed']}  ({again['message']})")

            _step("running the pipeline's stages against the emulator")
            for stage in run(session, provisioned["stack_name"], plane.region):
                print(f"{stage.stage:<8} {stage.status:<10} {stage.detail}")

            _step("POST /pipelinestatus")
            status = client.http.post("/pipelinestatus", body=json.dumps({"pipeline_id": provisioned["pipeline_id"]}))
            print(json.dumps(json.loads(status.body), indent=2))

        sagemaker = session.client("sagemaker")
        _step("deployed SageMaker resources")
        for endpoint in sagemaker.list_endpoints()["Endpoints"]:
            print(f"endpoint {endpoint['EndpointName']}: {endpoint['EndpointStatus']}")
        for model in sagemaker.list_models()["Models"]:
            print(f"model    {model['ModelName']}")
        deployed = json.loads(status.body)["deployed_stack"]
        return 0 if deployed and deployed["status"] == "CREATE_COMPLETE" else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

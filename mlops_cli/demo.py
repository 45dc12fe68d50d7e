"""``make demo``: the orchestrator's main job on this machine, with no AWS account.

Starts ``mlops local`` (the API against an embedded AWS emulator), provisions a real-time
pipeline over HTTP and a custom-image pipeline by uploading ``mlops-config.json`` to the
config bucket, waits until both pipelines have deployed their stacks, prints their status
documents and the SageMaker resources now in the emulator, then stops local mode.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from .bootstrap import ROOT
from .local_process import LocalProcess

HTTP_BODY = ROOT / "tests/events/valid/byom_realtime_builtin.json"
S3_BODY = ROOT / "tests/events/valid/byom_realtime_custom.json"
CONFIG_KEY = "demo/mlops-config.json"


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def show(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, indent=2))


def deployed(doc: dict[str, Any]) -> bool:
    stack = doc.get("deployed_stack") or {}
    return stack.get("status") in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def main() -> int:
    step("starting mlops local")
    local = LocalProcess()
    try:
        print("\n".join(f"{k}: {v}" for k, v in local.banner.items()))

        step(f"POST {local.api}/provisionpipeline  <- {HTTP_BODY.relative_to(ROOT)}")
        status, http_answer = local.post("/provisionpipeline", HTTP_BODY.read_bytes())
        print(status)
        show(http_answer)
        if status != 200:
            return 1

        step(f"upload {S3_BODY.relative_to(ROOT)} to s3://{local.banner['config_bucket']}/{CONFIG_KEY}")
        s3 = local.client("s3")
        s3.put_object(Bucket=local.banner["config_bucket"], Key=CONFIG_KEY, Body=S3_BODY.read_bytes())
        result_key = CONFIG_KEY.replace(".json", ".result.json")
        result = json.loads(local.wait_for_object(local.banner["config_bucket"], result_key))
        print(f"result object s3://{local.banner['config_bucket']}/{result_key}:")
        show(result)
        if result["outcome"] == "failed":
            return 1

        ok = True
        for label, pipeline_id in (("HTTP", http_answer["pipeline_id"]), ("S3", result["pipeline_id"])):
            step(f"status of the pipeline provisioned over {label}, once its run has finished")
            doc = local.wait_for(pipeline_id)
            show(doc)
            ok = ok and deployed(doc)

        step("SageMaker resources in the emulator")
        sagemaker = local.client("sagemaker")
        for endpoint in sagemaker.list_endpoints()["Endpoints"]:
            print(f"endpoint        {endpoint['EndpointName']}: {endpoint['EndpointStatus']}")
        for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]:
            print(f"endpoint config {config['EndpointConfigName']}")
        for model in sagemaker.list_models()["Models"]:
            print(f"model           {model['ModelName']}")
        print("\nboth pipelines deployed" if ok else "\na pipeline did not deploy")
        return 0 if ok else 1
    finally:
        step("stopping mlops local")
        code = local.stop(signal.SIGINT)
        print(f"mlops local exited with {code}")


if __name__ == "__main__":
    sys.exit(main())

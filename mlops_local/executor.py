"""Execute provisioned pipelines where no CodePipeline service runs (the local emulator).

moto stores no CodePipeline created by CloudFormation and runs no actions. The executor
reads the ``AWS::CodePipeline::Pipeline`` definition from the pipeline stack's own
template, resolves its parameters, and runs each action the blueprints use:

- ``Source/S3``: the object the pipeline's configuration names (its current version);
- ``Deploy/CloudFormation`` (``CREATE_UPDATE``, ``REPLACE_ON_FAILURE``, ``DELETE_ONLY``): the
  template and template configuration named inside the input artifact;
- ``Deploy/CloudFormationStackSet``: the stack set created or updated with the template and the
  parameter file of the artifact, and its instances in the target accounts (moto creates
  their stacks in those accounts);
- ``Invoke/StepFunctions``: the state machine run by :mod:`.statemachine`, in the action's
  ``RoleArn`` account when it has one (a stage account of a promoted pipeline);
- ``Approval/Manual``: waits for a decision sent with ``PutApprovalResult`` (local mode's
  CodePipeline endpoint) and fails the run when it is a rejection; a :class:`Store` made with
  ``auto_approve=True`` approves at once and says so.

Stage and action states are kept in the shape of CodePipeline's ``GetPipelineState`` so the
orchestrator's status route reads them exactly as it reads a real pipeline's. :class:`Restarts`
says when CodePipeline would start a run: on creation and after each stack update that changed
the pipeline (``RestartExecutionOnUpdate``).

Given :class:`~.iam.Identities` (local mode), each action calls the emulator as
CodePipeline would: with the action's ``RoleArn`` (the deploy role of CloudFormation actions, a
stage account's run role) or else the pipeline's role; a state machine runs as its own role.
What the emulator's CloudFormation does for a stack (and the layers local mode sets on its
functions) is not checked against the deploy role: moto creates resources without asking IAM.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.stacks import parameters as stack_parameters
from mlops_cfn import Resolver, loads

ACCOUNT = "123456789012"
AUTO_APPROVED = "approved automatically (this executor was started with auto_approve)"


# --- reading the pipeline definition ----------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    category: str
    provider: str
    configuration: dict[str, Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run_order: int
    role_arn: str | None = None


@dataclass(frozen=True)
class Definition:
    name: str
    stages: tuple[tuple[str, tuple[Action, ...]], ...]
    role_arn: str | None = None  # the pipeline's role


def pipeline_properties(cfn: Any, stack: dict[str, Any], region: str) -> dict[str, Any]:
    """The ``AWS::CodePipeline::Pipeline`` properties of a pipeline stack, resolved with its parameters."""
    names = stack_parameters(stack)
    names.update({"AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"})
    template = _template(cfn.get_template(StackName=stack["StackId"])["TemplateBody"])
    [pipeline] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return dict(Resolver(template, names, attributes=_role_arns(cfn, stack)).resolve(pipeline["Properties"]))


def _role_arns(cfn: Any, stack: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``Fn::GetAtt [Role, Arn]`` of each role in the stack (the pipeline's and its actions')."""
    resources = cfn.list_stack_resources(StackName=stack["StackId"])["StackResourceSummaries"]
    return {
        (r["LogicalResourceId"], "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{r['PhysicalResourceId']}"
        for r in resources
        if r["ResourceType"] == "AWS::IAM::Role"
    }


def _template(body: str | dict[str, Any]) -> dict[str, Any]:
    """A template as CloudFormation's GetTemplate returns it: text (YAML or JSON) or a document."""
    return body if isinstance(body, dict) else loads(body)


def definition(cfn: Any, pipeline_stack: str, region: str) -> Definition:
    stack = cfn.describe_stacks(StackName=pipeline_stack)["Stacks"][0]
    props = pipeline_properties(cfn, stack, region)
    stages = []
    for stage in props["Stages"]:
        actions = tuple(
            sorted(
                (
                    Action(
                        name=a["Name"],
                        category=a["ActionTypeId"]["Category"],
                        provider=a["ActionTypeId"]["Provider"],
                        configuration=a.get("Configuration", {}),
                        inputs=tuple(i["Name"] for i in a.get("InputArtifacts", [])),
                        outputs=tuple(o["Name"] for o in a.get("OutputArtifacts", [])),
                        run_order=int(a.get("RunOrder", 1)),
                        role_arn=a.get("RoleArn"),
                    )
                    for a in stage["Actions"]
                ),
                key=lambda a: a.run_order,
            )
        )
        stages.append((stage["Name"], actions))
    role = props.get("RoleArn")
    return Definition(props.get("Name") or pipeline_stack, tuple(stages), role)


def _changes(cfn: Any, stack: dict[str, Any]) -> str:
    """How many times the stack was created or updated (the emulator keeps no LastUpdatedTime)."""
    events = cfn.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
    done = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    return str(sum(e["LogicalResourceId"] == stack["StackName"] and e["ResourceStatus"] in done for e in events))


class Restarts:
    """When CodePipeline starts a run of a pipeline that a stack defines: once when the stack
    creates it, and after each stack update that changed it (``RestartExecutionOnUpdate``), such
    as one that names another bundle, an earlier one included. Nothing else starts a run: the
    source does not poll and no event rule watches the bundle.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str]] = {}  # stack id -> (its changes so far, pipeline digest)

    def due(self, cfn: Any, stack: dict[str, Any], region: str = "us-east-1") -> bool:
        """True once for each creation or change of the pipeline that ``stack`` (described) defines."""
        changed = _changes(cfn, stack)
        seen = self._seen.get(stack["StackId"])
        if seen is not None and seen[0] == changed:
            return False  # the stack has not changed since it was last looked at
        properties = pipeline_properties(cfn, stack, region)
        digest = hashlib.sha256(json.dumps(properties, sort_keys=True, default=str).encode()).hexdigest()
        self._seen[stack["StackId"]] = (changed, digest)
        return seen is None or seen[1] != digest


# --- state, in GetPipelineState's shape ---------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ActionState:
    name: str
    status: str | None = None
    summary: str | None = None
    error: str | None = None
    updated: datetime | None = None
    token: str | None = None  # a manual approval waiting for its decision

    def as_api(self) -> dict[str, Any]:
        state: dict[str, Any] = {"actionName": self.name}
        if self.status and self.updated:
            latest: dict[str, Any] = {"status": self.status, "lastStatusChange": self.updated.timestamp()}
            if self.summary:
                latest["summary"] = self.summary
            if self.error:
                latest["errorDetails"] = {"code": "JobFailed", "message": self.error}
            if self.token and self.status == "InProgress":
                latest["token"] = self.token
            state["latestExecution"] = latest
        return state


@dataclass
class Execution:
    pipeline: str
    definition: Definition
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    actions: dict[tuple[str, str], ActionState] = field(default_factory=dict)
    stage_status: dict[str, str] = field(default_factory=dict)
    started: datetime = field(default_factory=_now)

    def as_api(self) -> dict[str, Any]:
        stages = []
        for stage, actions in self.definition.stages:
            entry: dict[str, Any] = {
                "stageName": stage,
                "inboundTransitionState": {"enabled": True},
                "actionStates": [self.actions.get((stage, a.name), ActionState(a.name)).as_api() for a in actions],
            }
            if stage in self.stage_status:
                entry["latestExecution"] = {"pipelineExecutionId": self.id, "status": self.stage_status[stage]}
            stages.append(entry)
        return {
            "pipelineName": self.pipeline,
            "pipelineVersion": 1,
            "stageStates": stages,
            "created": self.started.timestamp(),
            "updated": _now().timestamp(),
        }


class Store:
    """The latest execution of each pipeline, shared by the executor and the API endpoint,
    and the decisions of the manual approvals the executions wait for."""

    def __init__(self, auto_approve: bool = True) -> None:
        # Starts a run of a pipeline by name and answers its execution id (StartPipelineExecution);
        # raises LookupError for a pipeline that does not exist. Set by whoever runs pipelines.
        self.starter: Callable[[str], str] | None = None
        self._lock = threading.Lock()
        self._latest: dict[str, Execution] = {}
        self.auto_approve = auto_approve
        self.stopping = threading.Event()
        self._decisions: dict[str, tuple[str, str]] = {}
        self._decided = threading.Condition(self._lock)

    def decide(self, pipeline: str, stage: str, action: str, token: str, status: str, summary: str) -> bool:
        """Record a decision for the approval that waits with ``token``; False when none does."""
        with self._lock:
            execution = self._latest.get(pipeline)
            state = execution.actions.get((stage, action)) if execution else None
            if state is None or state.token != token or state.status != "InProgress":
                return False
            self._decisions[token] = (status, summary)
            self._decided.notify_all()
            return True

    def await_decision(self, token: str) -> tuple[str, str]:
        """Block until the approval with ``token`` is decided (or the executor stops)."""
        with self._lock:
            while token not in self._decisions:
                if self.stopping.is_set():
                    return "Rejected", "local mode stopped before a decision"
                self._decided.wait(0.25)
            return self._decisions.pop(token)

    def put(self, execution: Execution) -> None:
        with self._lock:
            self._latest[execution.pipeline] = execution

    def state(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            execution = self._latest.get(name)
            return execution.as_api() if execution else None

    def latest(self, name: str) -> Execution | None:
        with self._lock:
            return self._latest.get(name)


# --- running actions -----------------------------------------------------------------


class ActionFailed(Exception):
    pass


def _artifact_file(artifacts: dict[str, bytes], reference: str) -> bytes:
    artifact, _, path = reference.partition("::")
    if artifact not in artifacts:
        raise ActionFailed(f"input artifact {artifact!r} was not produced by an earlier action")
    try:
        return zipfile.ZipFile(io.BytesIO(artifacts[artifact])).read(path)
    except KeyError:
        raise ActionFailed(f"{path} is not in artifact {artifact!r}") from None


def _stack_failure(cfn: Any, name: str) -> str:
    for event in cfn.describe_stack_events(StackName=name)["StackEvents"]:
        if event.get("ResourceStatus", "").endswith("FAILED") and event.get("ResourceStatusReason"):
            return f"{event['LogicalResourceId']}: {event['ResourceStatusReason']}"
    return "the stack did not complete"


def _stack_status(cfn: Any, name: str) -> str | None:
    """The live stack's status (DescribeStacks, as CodePipeline asks), None when there is none."""
    try:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise ActionFailed(f"stack {name}: {exc}") from exc
    return None if status == "DELETE_COMPLETE" else str(status)


def _deploy(
    session: Any, region: str, config: dict[str, Any], artifacts: dict[str, bytes], plumbing: Any = None
) -> str:
    """``plumbing``: the session for what CloudFormation itself does (default ``session``)."""
    plumbing = plumbing or session
    cfn = session.client("cloudformation", region_name=region)
    name = config["StackName"]
    mode = config.get("ActionMode", "CREATE_UPDATE")
    current = _stack_status(cfn, name)
    if mode == "DELETE_ONLY":
        if current:
            cfn.delete_stack(StackName=name)
        return f"{name}: deleted" if current else f"{name}: nothing to delete"
    if mode not in ("CREATE_UPDATE", "REPLACE_ON_FAILURE"):
        raise ActionFailed(f"local mode does not run CloudFormation action mode {mode}")
    template = _artifact_file(artifacts, config["TemplatePath"]).decode()
    settings: dict[str, Any] = {}
    if config.get("TemplateConfiguration"):
        settings = json.loads(_artifact_file(artifacts, config["TemplateConfiguration"]))
    parameters = {**settings.get("Parameters", {}), **json.loads(config.get("ParameterOverrides") or "{}")}
    arguments = {
        "StackName": name,
        "TemplateBody": template,
        "Parameters": [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
        "Capabilities": [c for c in str(config.get("Capabilities", "")).split(",") if c],
        "Tags": [{"Key": k, "Value": v} for k, v in settings.get("Tags", {}).items()],
    }
    failed = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}
    if current in failed and mode == "REPLACE_ON_FAILURE":
        cfn.delete_stack(StackName=name)
        current = None
    elif current in failed:
        raise ActionFailed(f"stack {name} is in {current} state and can not be updated")
    try:
        if current:
            try:
                cfn.update_stack(**arguments)
            except Exception as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
        else:
            cfn.create_stack(**arguments)
    except Exception as exc:
        raise ActionFailed(f"stack {name}: {exc}") from exc
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        failure = _stack_failure(plumbing.client("cloudformation", region_name=region), name)
        raise ActionFailed(f"stack {name} is {status}: {failure}")
    parsed = _template(template)
    if layered_functions(parsed):
        give_functions_their_layers(plumbing, region, name, parsed, parameters)
    return f"stack {name}: {status}"


def layered_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's functions that name layers (whatever their conditions), by logical id."""
    return {
        logical: resource
        for logical, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Lambda::Function" and "Layers" in resource.get("Properties", {})
    }


def give_functions_their_layers(
    session: Any, region: str, stack: str, template: dict[str, Any], parameters: dict[str, Any]
) -> None:
    """Set each function's ``Layers`` as the template says: the emulator's CloudFormation drops them.

    :mod:`.lambdas` runs a function with layers with the SageMaker SDK layer's interpreter.
    Functions are found by their ``FunctionName`` (the emulator hides a service-managed stack
    set's stacks), else by ``stack``'s resources.
    """
    names = {**{k: str(v) for k, v in parameters.items()}, "AWS::Region": region, "AWS::Partition": "aws"}
    resolver = Resolver(template, names)
    functions = session.client("lambda", region_name=region)
    for logical, resource in layered_functions(template).items():
        if not resolver.present(logical):
            continue
        properties = resource["Properties"]
        name = resolver.resolve(properties.get("FunctionName"))
        if not name:
            described = session.client("cloudformation", region_name=region).describe_stack_resource(
                StackName=stack, LogicalResourceId=logical
            )
            name = described["StackResourceDetail"]["PhysicalResourceId"]
        functions.update_function_configuration(FunctionName=name, Layers=resolver.resolve(properties["Layers"]))


def _deploy_stack_set(
    session: Any, region: str, config: dict[str, Any], artifacts: dict[str, bytes], identities: Any = None
) -> str:
    cfn = session.client("cloudformation", region_name=region)
    name = config["StackSetName"]
    template = _artifact_file(artifacts, config["TemplatePath"]).decode()
    parameters = json.loads(_artifact_file(artifacts, config["Parameters"])) if config.get("Parameters") else []
    capabilities = [c for c in str(config.get("Capabilities", "")).split(",") if c]
    targets = [t.strip() for t in str(config["DeploymentTargets"]).split(",") if t.strip()]
    regions = [r.strip() for r in str(config.get("Regions", region)).split(",") if r.strip()]
    by_org = config.get("PermissionModel") == "SERVICE_MANAGED"
    where: dict[str, Any] = {"Accounts": targets}
    if by_org:
        where = {"DeploymentTargets": {"OrganizationalUnitIds": targets}}
    try:
        try:
            cfn.describe_stack_set(StackSetName=name)
            exists = True
        except Exception as exc:
            if "StackSetNotFound" not in str(exc):
                raise
            exists = False
        body = {"StackSetName": name, "TemplateBody": template, "Parameters": parameters, "Capabilities": capabilities}
        if exists:
            cfn.update_stack_set(**body, **where, Regions=regions)
        else:
            model = {"PermissionModel": "SERVICE_MANAGED" if by_org else "SELF_MANAGED"}
            cfn.create_stack_set(**body, **model, Description=config.get("Description", name))
            cfn.create_stack_instances(StackSetName=name, **where, Regions=regions)
        instances = cfn.list_stack_instances(StackSetName=name)["Summaries"]
    except Exception as exc:
        raise ActionFailed(f"stack set {name}: {exc}") from exc
    bad = [i for i in instances if i.get("Status") not in (None, "CURRENT")]
    if bad:
        reasons = "; ".join(f"{i['Account']}/{i['Region']}: {i.get('StatusReason') or i['Status']}" for i in bad)
        raise ActionFailed(f"stack set {name}: {reasons}")
    parsed = _template(template)
    if layered_functions(parsed):
        values = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
        for instance in instances:
            # The stack set's own execution role in the target account, as CloudFormation uses it.
            role = f"arn:aws:iam::{instance['Account']}:role/AWSCloudFormationStackSetExecutionRole"
            in_account = (
                identities.admin(instance["Account"]) if identities else _assumed(session, instance["Region"], role)
            )
            give_functions_their_layers(in_account, instance["Region"], f"StackSet:{name}", parsed, values)
    return f"stack set {name}: {len(instances)} instance(s) current"


def _assumed(session: Any, region: str, role_arn: str) -> Any:
    """A session in the account of ``role_arn``, as CodePipeline assumes an action's role."""
    from .bootstrap import assumed_session

    try:
        return assumed_session(session, region, role_arn, "mlops-pipeline")
    except Exception as exc:
        raise ActionFailed(f"could not assume {role_arn}: {exc}") from exc


def _run_state_machine(
    session: Any,
    region: str,
    config: dict[str, Any],
    role_arn: str | None = None,
    plumbing: Any = None,
    identities: Any = None,
) -> str:
    """Describe, start and follow the state machine as the action's identity; run it as its role.

    Without ``identities``, ``session`` is the home account's and ``role_arn`` is assumed to
    reach a stage account. With them, ``session`` already is the action's identity.
    """
    from .statemachine import ExecutionFailed, run

    home = plumbing or session
    if role_arn and identities is None:
        session = _assumed(home, region, role_arn)
    arn = config["StateMachineArn"]
    states = session.client("stepfunctions", region_name=region)
    try:
        described = states.describe_state_machine(stateMachineArn=arn)
    except Exception as exc:
        raise ActionFailed(f"state machine {arn.rsplit(':', 1)[-1]} not found: {exc}") from exc
    document = json.loads(config.get("Input") or "{}") if config.get("InputType", "Literal") == "Literal" else {}
    machine = session
    if identities is not None:
        prefix = config.get("ExecutionNamePrefix", "pipeline")
        try:
            started = states.start_execution(
                stateMachineArn=arn, name=f"{prefix}-{uuid.uuid4()}", input=json.dumps(document)
            )
            states.describe_execution(executionArn=started["executionArn"])
        except Exception as exc:
            raise ActionFailed(f"could not start {described['name']}: {exc}") from exc
        machine = identities.role(described["roleArn"], "states")
    # A stage account publishes to the orchestrator's topic as its topic policy allows; the
    # emulator has no cross-account topic policies, so the home account publishes for it.
    publisher = home if arn.split(":")[4] != ACCOUNT or identities is None else None
    try:
        run(machine, json.loads(described["definition"]), document, region, publisher=publisher, identities=identities)
    except ExecutionFailed as failed:
        raise ActionFailed(f"{failed.error}: {failed.cause}") from failed
    return f"execution of {described['name']} succeeded"


def run_action(
    session: Any,
    region: str,
    action: Action,
    artifacts: dict[str, bytes],
    plumbing: Any = None,
    identities: Any = None,
) -> str:
    """Run ``action`` as ``session``; ``plumbing`` does what the services themselves would."""
    kind = (action.category, action.provider)
    config = action.configuration
    if kind == ("Source", "S3"):
        s3 = session.client("s3", region_name=region)
        try:
            obj = s3.get_object(Bucket=config["S3Bucket"], Key=config["S3ObjectKey"])
        except Exception as exc:
            raise ActionFailed(f"could not read s3://{config['S3Bucket']}/{config['S3ObjectKey']}: {exc}") from exc
        for output in action.outputs:
            artifacts[output] = obj["Body"].read()
        return f"s3://{config['S3Bucket']}/{config['S3ObjectKey']} version {obj.get('VersionId')}"
    if kind == ("Deploy", "CloudFormation"):
        return _deploy(session, region, config, artifacts, plumbing)
    if kind == ("Deploy", "CloudFormationStackSet"):
        return _deploy_stack_set(session, region, config, artifacts, identities)
    if kind == ("Invoke", "StepFunctions"):
        return _run_state_machine(session, region, config, action.role_arn, plumbing, identities)
    raise ActionFailed(f"local mode does not run {action.category}/{action.provider} actions")


def _approval(store: Store, state: ActionState) -> str:
    state.token = str(uuid.uuid4())
    status, summary = store.await_decision(state.token)
    if status != "Approved":
        raise ActionFailed(f"rejected: {summary}")
    return f"approved: {summary}"


def execute(
    session: Any,
    pipeline_stack: str,
    store: Store,
    region: str = "us-east-1",
    identities: Any = None,
    execution_id: str | None = None,
) -> Execution:
    """Run every stage of the pipeline in ``pipeline_stack`` once, recording state as it goes.

    ``session`` reads the pipeline; with ``identities`` (local mode) each action runs as its role.
    ``execution_id``: the id StartPipelineExecution already answered (default: a new one).
    """
    plan = definition(session.client("cloudformation", region_name=region), pipeline_stack, region)
    execution = Execution(plan.name, plan)
    if execution_id:
        execution.id = execution_id
    store.put(execution)
    artifacts: dict[str, bytes] = {}
    for stage, actions in plan.stages:
        execution.stage_status[stage] = "InProgress"
        for action in actions:
            state = ActionState(action.name, "InProgress", updated=_now())
            execution.actions[(stage, action.name)] = state
            try:
                if (action.category, action.provider) == ("Approval", "Manual"):
                    state.summary = AUTO_APPROVED if store.auto_approve else _approval(store, state)
                else:
                    actor = session
                    if identities is not None and (action.role_arn or plan.role_arn):
                        actor = identities.role(action.role_arn or plan.role_arn, "codepipeline")
                    state.summary = run_action(actor, region, action, artifacts, session, identities)
                state.status = "Succeeded"
            except Exception as exc:
                state.status, state.error = "Failed", str(exc)
            state.updated = _now()
            if state.status == "Failed":
                execution.stage_status[stage] = execution.status = "Failed"
                return execution
        execution.stage_status[stage] = "Succeeded"
    execution.status = "Succeeded"
    return execution

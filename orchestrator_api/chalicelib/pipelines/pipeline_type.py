"""What a pipeline type is: its registry entry, the context its renderer is handed, the registry.

Each entry knows its request model, its blueprint, its stack-name suffix, how to render
the blueprint's parameters (per stage when promoted across accounts), its monitor kind and
engines where it has them, and whether it is deployed through a CodePipeline or created
directly. Entries are frozen and registered explicitly; registering a name twice is an error.
The one registry instance, with every entry, is :mod:`.catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, ValidationFailed
from ..models.base import RequestModel
from ..naming import stack_name
from ..settings import Settings


@dataclass(frozen=True)
class RenderContext:
    """What a renderer is handed besides the request: it never looks these up itself."""

    entry: PipelineType
    stack: str  # the blueprint stack's name
    stage: str | None  # the stage rendered for; None: a single account
    settings: Settings


# Renders the blueprint's parameters for one request in one context.
Renderer = Callable[[Any, RenderContext], dict[str, str]]


@dataclass(frozen=True)
class PipelineType:
    name: str
    model: type[RequestModel]
    blueprint: str
    stack_suffix: str
    renderer: Renderer
    # True: promoted dev -> staging -> prod in a multi-account installation.
    multi_account: bool = True
    # True: the blueprint defines a state machine the pipeline runs after deploying it.
    run_stage: bool = False
    # True: after the Run stage, the pipeline deploys the stack again with BaselineReady=true
    # (monitors: the schedule exists only once its baseline job has succeeded).
    schedule_after_run: bool = False
    # (engine, blueprint) for types whose blueprint depends on the request's monitor engine.
    engine_blueprints: tuple[tuple[str, str], ...] = ()
    # Monitors: the schedule's MonitoringType (DataQuality, ModelQuality, ModelBias, ModelExplainability).
    monitor_kind: str | None = None
    # The request field whose value names the stack (the original solution's scheme).
    infix_field: str = "model_name"

    def has_run_stage(self, request: Any) -> bool:
        """Whether the pipeline runs the blueprint's state machine after each deploy: always for
        types with a job; for others, when the request asks (a real-time endpoint's smoke test)."""
        asks = getattr(request, "asks_for_run_stage", None)
        return self.run_stage or bool(asks is not None and asks())

    def stack_infix(self, request: Any) -> str:
        return str(getattr(request, self.infix_field))

    def stack_name(self, request: Any, settings: Settings) -> str:
        """The blueprint stack ``request`` deploys."""
        return stack_name(settings, self.stack_infix(request), self.stack_suffix)

    def engine(self, request: Any, settings: Settings) -> str | None:
        """The monitor engine ``request`` runs on; None for types that have no choice of engine."""
        if not self.engine_blueprints:
            return None
        return str(request.engine(settings))

    def blueprint_for(self, request: Any, settings: Settings) -> str:
        """The blueprint a request deploys: the engine's, where the type has a choice."""
        engine = self.engine(request, settings)
        return dict(self.engine_blueprints)[engine] if engine else self.blueprint

    def blueprints(self) -> set[str]:
        return {self.blueprint, *(name for _, name in self.engine_blueprints)}

    def context(self, request: Any, settings: Settings, stage: str | None) -> RenderContext:
        return RenderContext(self, self.stack_name(request, settings), stage, settings)

    def render(self, request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
        """The blueprint's parameters for ``stage`` (None: a single account)."""
        return self.renderer(request, self.context(request, settings, stage))


class Registry:
    def __init__(self) -> None:
        self._entries: dict[str, PipelineType] = {}

    def register(self, entry: PipelineType) -> PipelineType:
        if entry.name in self._entries:
            raise ValueError(f"pipeline type {entry.name!r} is registered twice")
        if entry.name != entry.model.TYPE_NAME:
            raise ValueError(f"{entry.model.__name__} validates {entry.model.TYPE_NAME!r}, not {entry.name!r}")
        self._entries[entry.name] = entry
        return entry

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[PipelineType]:
        return iter(self._entries[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, name: str) -> PipelineType | None:
        """The entry for ``name`` (a type name read back from AWS, say), or None."""
        return self._entries.get(name)

    def get(self, name: Any) -> PipelineType:
        """The entry for ``name``; a 400 listing the valid names otherwise."""
        if isinstance(name, str) and name.strip() in self._entries:
            return self._entries[name.strip()]
        if name is None or name == "":
            problem = "is required"
        elif not isinstance(name, str):
            problem = "must be a string"
        else:
            problem = f"{name!r} is not a pipeline type"
        raise ValidationFailed(
            [Problem("pipeline_type", f"{problem}; valid types: {', '.join(self.names())}")],
            "unknown pipeline_type",
        )

"""The registry of pipeline types.

Each entry knows its request model, its blueprint, its stack-name suffix, how to render
the blueprint's parameters (per stage when promoted across accounts) and whether it is
deployed through a CodePipeline or created directly. Entries are frozen and registered
explicitly; registering a name twice is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, ValidationFailed
from ..models.base import RequestModel
from ..settings import Settings

# Renders the blueprint's parameters for one stage (None: single account).
Renderer = Callable[[Any, Settings, "str | None"], dict[str, str]]


@dataclass(frozen=True)
class PipelineType:
    name: str
    model: type[RequestModel]
    blueprint: str
    stack_suffix: str
    render: Renderer
    # True: promoted dev -> staging -> prod in a multi-account installation.
    multi_account: bool = True
    # True: the blueprint defines a state machine the pipeline runs after deploying it.
    run_stage: bool = False
    # True: after the Run stage, the pipeline deploys the stack again with BaselineReady=true
    # (monitors: the schedule exists only once its baseline job has succeeded).
    schedule_after_run: bool = False
    # (engine, blueprint) for types whose blueprint depends on the request's monitor engine.
    engine_blueprints: tuple[tuple[str, str], ...] = ()
    # The request field whose value names the stack (the anchor's scheme).
    infix_field: str = "model_name"

    def stack_infix(self, request: Any) -> str:
        return str(getattr(request, self.infix_field))

    def blueprint_for(self, request: Any, settings: Settings) -> str:
        """The blueprint a request deploys: the engine's, where the type has a choice."""
        engine = getattr(request, "engine", None)
        if self.engine_blueprints and callable(engine):
            return dict(self.engine_blueprints)[engine(settings)]
        return self.blueprint

    def blueprints(self) -> set[str]:
        return {self.blueprint, *(name for _, name in self.engine_blueprints)}


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

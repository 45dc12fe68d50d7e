"""The base request model and the translation of pydantic errors into plain ``Problem`` items.

Validation runs in two passes so one 400 lists every problem: pydantic checks each field's
type and form, while :meth:`RequestModel.presence_problems` applies the rules that depend on
other fields or on the control plane's mode (model registry, multi-account). Rules that
need several valid fields at once (name lengths) run afterwards in :meth:`cross_checks`.

A key that is not a field of the body's type but is one of another type's (the original
solution ignored keys a type does not read, and its own example bodies carry such leftovers)
is left out before validation: :func:`leftovers` says which, and why, so the answer can list
them as warnings. A key no type has stays a problem.
"""

from __future__ import annotations

import difflib
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import Problem, ValidationFailed
from ..settings import Settings
from . import guardrails, instances
from .fields import STAGES, StageValues


class RequestModel(BaseModel):
    """One pipeline type's request body."""

    # defer_build: a cold Lambda builds only the validators of the type it is asked for.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    pipeline_type: str
    # The pipeline_type value this model validates (set by each concrete model).
    TYPE_NAME: ClassVar[str] = ""
    # Fields the original solution reads per stage; a stage dict anywhere else is a 400.
    STAGED: ClassVar[frozenset[str]] = frozenset()
    # (instance type field, KMS key field) pairs whose key SageMaker puts on the instances'
    # volumes: refused together for instance types with local storage (models/instances.py).
    VOLUME_KEY_FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Other types' fields this type refuses rather than ignores: asking for them here means
    # something this type cannot do (its presence_problems say why).
    REFUSED_FOREIGN: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.__dict__.get("TYPE_NAME")
        if name:
            if name in _TYPES and _TYPES[name] is not cls:
                raise ValueError(f"two request models validate {name!r}")
            _TYPES[name] = cls

    @classmethod
    def type_name(cls) -> str:
        return cls.TYPE_NAME

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        """Rules on which keys must or must not be present, read from the raw body."""
        return []

    @classmethod
    def unused_keys(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        """Fields of this type that ``raw`` gives but that another field makes unused: each left out, with why."""
        return []

    def cross_checks(self, settings: Settings) -> list[Problem]:
        """Rules over several already-valid fields."""
        return []

    def volume_key_fields(self, settings: Settings) -> tuple[tuple[str, str], ...]:
        """The :data:`VOLUME_KEY_FIELDS` this request's pipeline uses (an engine may use none)."""
        return self.VOLUME_KEY_FIELDS

    def normalized(self) -> dict[str, Any]:
        """The canonical form of the request: what idempotency compares and the zip stores."""
        return self.model_dump(mode="json", exclude_none=True)


# Every concrete request model by the pipeline_type it validates (filled as the models are
# defined; the package imports every family, so it is complete once any model is importable).
_TYPES: dict[str, type[RequestModel]] = {}


def field_owners() -> dict[str, tuple[str, ...]]:
    """Each field any request type defines -> the types that define it, sorted."""
    owners: dict[str, list[str]] = {}
    for name, model in sorted(_TYPES.items()):
        for field in model.model_fields:
            owners.setdefault(field, []).append(name)
    return {field: tuple(types) for field, types in owners.items()}


def leftovers(model: type[RequestModel], raw: dict[str, Any]) -> list[Problem]:
    """The keys of ``raw`` that ``model`` does not take but another type does: each ignored, with why.

    A :class:`~..errors.Problem` is used as the warning's shape (field and text).
    """
    owners = field_owners()
    found = []
    for key in sorted(k for k in raw if isinstance(k, str)):
        if key in model.model_fields or key not in owners or key in model.REFUSED_FOREIGN:
            continue
        types = owners[key]
        shown = ", ".join(types[:3]) + (f" and {len(types) - 3} more" if len(types) > 3 else "")
        found.append(Problem(key, f"is ignored: it is a field of {shown}, not of pipeline_type {model.type_name()}"))
    return found


def ignored(model: type[RequestModel], raw: dict[str, Any], settings: Settings) -> list[Problem]:
    """Every key of ``raw`` that validation leaves out, with why: the answer's warnings."""
    found: dict[str, Problem] = {}
    for item in model.unused_keys(raw, settings) + leftovers(model, raw):
        found.setdefault(item.field, item)  # the type's own reason first
    return sorted(found.values(), key=lambda p: p.field)


def require(raw: dict[str, Any], field: str, why: str) -> list[Problem]:
    if raw.get(field) in (None, ""):
        return [Problem(field, f"is required {why}")]
    return []


def forbid(raw: dict[str, Any], field: str, why: str) -> list[Problem]:
    if field in raw:
        return [Problem(field, f"is not accepted {why}")]
    return []


def parse(model: type[RequestModel], raw: dict[str, Any], settings: Settings) -> RequestModel:
    """Validate ``raw`` as ``model``; raise ``ValidationFailed`` listing every problem.

    Keys that belong to other types, or that another field makes unused, are left out first (:func:`ignored`).
    """
    left_out = {item.field for item in ignored(model, raw, settings)}
    raw = {key: value for key, value in raw.items() if key not in left_out}
    problems = list(model.presence_problems(raw, settings))
    parsed: RequestModel | None = None
    try:
        parsed = model.model_validate(raw, context={"assets_bucket": settings.assets_bucket})
    except ValidationError as exc:
        problems.extend(translate(exc, model, raw))
    if parsed is not None:
        problems.extend(parsed.cross_checks(settings))
        problems.extend(instances.volume_key_problems(parsed, parsed.volume_key_fields(settings)))
        problems.extend(guardrails.problems(parsed, settings))
        if not settings.multi_account:
            problems.extend(
                Problem(name, "per-stage values need a multi-account installation; give one value")
                for name in sorted(model.STAGED)
                if isinstance(getattr(parsed, name, None), StageValues)
            )
    if problems:
        raise ValidationFailed(_dedupe(problems), f"the {model.type_name()} request has problems")
    assert parsed is not None
    return parsed


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for item in problems:
        seen.setdefault(item.field, item)
    return sorted(seen.values(), key=lambda p: p.field)


def _is_stage_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= set(STAGES)


def translate(exc: ValidationError, model: type[RequestModel], raw: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    known = sorted(model.model_fields)
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"] if part != "value"]
        in_stages = "stages" in loc
        loc = [part for part in loc if part != "stages"]
        field = ".".join(loc) or "body"
        kind = error["type"]
        top = loc[0] if loc else ""
        if kind == "missing":
            if in_stages:
                problem = "is missing: per-stage values need all of dev, staging and prod"
            else:
                problem = f"is required for pipeline_type {model.type_name()}"
        elif kind == "extra_forbidden" and len(loc) > 1 and not in_stages:
            problem = f"is not accepted in {'.'.join(loc[:-1])}"
        elif kind == "extra_forbidden":
            if in_stages:
                problem = "is not a stage: per-stage values take exactly dev, staging and prod"
            else:
                problem = f"is not a field of pipeline_type {model.type_name()} (nor of any other type)"
                problem += _suggestion(top, known)
        elif _is_stage_dict(raw.get(top)) and top not in model.STAGED and len(loc) == 1:
            problem = "does not take per-stage values (dev/staging/prod); give one value"
        elif kind == "mlops":
            problem = error["msg"]
        else:
            problem = _plain(error)
        out.append(Problem(field, problem))
    return out


def _likeness(name: str, other: str) -> float:
    return difflib.SequenceMatcher(None, name, other).ratio()


def _suggestion(name: str, known: list[str]) -> str:
    """ "; did you mean 'x'?" for a close field of this type, else (or when one of another type is
    closer) of another type; '' if none is close."""
    own = difflib.get_close_matches(name, known, n=1)
    owners = field_owners()
    close = difflib.get_close_matches(name, sorted(owners), n=1)
    if own and (not close or _likeness(name, own[0]) >= _likeness(name, close[0])):
        return f"; did you mean {own[0]!r}?"
    if close:
        return f"; did you mean {close[0]!r} (a field of {', '.join(owners[close[0]])})?"
    return ""


def _plain(error: Any) -> str:
    kind = error["type"]
    messages = {
        "string_type": "must be a string",
        "dict_type": "must be a JSON object",
        "model_type": "must be a JSON object",
        "model_attributes_type": "must be a JSON object",
        "list_type": "must be a list",
        "int_type": "must be a whole number",
        "bool_type": "must be true or false",
        "union_tag_invalid": "has an unexpected form",
    }
    return messages.get(kind, str(error["msg"]).lower())

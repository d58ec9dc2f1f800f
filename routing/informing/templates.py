"""Message templates: typed variables, one body per channel, checked when saved and rendered when sent.

Bodies are Jinja2 in its sandbox with ``StrictUndefined``: a body naming a variable the template does not
declare is refused when the template is saved, and rendering without a declared variable's value is an
error, never an empty hole.  An SMS body is sized with every variable at its longest (``max_length``)
and refused when it needs more segments than allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from routing.informing.segments import SegmentCount, count_segments

VARIABLE_TYPES = ("text", "number", "money", "date")
CHANNEL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "sms": ("text",),
    "viber": ("text", "button_text", "button_url", "image_url"),
    "viber_business": ("text", "button_text", "button_url", "image_url"),
    "email": ("subject", "text", "html"),
    "telegram": ("text",),
}
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {"email": ("subject", "text")}
VIBER_MAX_CHARS = 1000
_SAMPLE_LENGTH = {"number": 12, "money": 12, "date": 10}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


class TemplateError(ValueError):
    """A template that cannot be saved, or values it cannot be rendered with; ``problems`` say why."""

    def __init__(self, problems: tuple[TemplateProblem, ...]) -> None:
        super().__init__("; ".join(p.describe() for p in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        return (TemplateError, (self.problems,))


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """``code`` is the locale key of the reason (``informing.problem.<code>``); ``where`` the field."""

    code: str
    where: str
    detail: str = ""

    def describe(self) -> str:
        return f"{self.where}: {self.code}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    type: str = "text"
    max_length: int = 40


@dataclass(frozen=True, slots=True)
class TemplateDraft:
    """What an administrator saves: a new version of the template ``name`` in ``language``."""

    name: str
    topic: str
    variables: tuple[Variable, ...]
    bodies: Mapping[str, Mapping[str, str]]
    language: str = "uk"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> TemplateDraft:
        try:
            variables = tuple(Variable(str(v["name"]), str(v.get("type", "text")), int(v.get("max_length", 40)))
                              for v in raw.get("variables", ()))
            bodies = {str(ch): {str(k): str(v) for k, v in fields.items() if v not in (None, "")}
                      for ch, fields in dict(raw.get("bodies", {})).items()}
            return cls(name=str(raw["name"]).strip(), topic=str(raw["topic"]).strip(), variables=variables,
                       bodies=bodies, language=str(raw.get("language", "uk")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TemplateError((TemplateProblem("malformed", "template", repr(exc)),)) from exc


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    channel: str
    text: str
    subject: str | None = None
    html: str | None = None
    button_text: str | None = None
    button_url: str | None = None
    image_url: str | None = None
    segments: SegmentCount | None = None


@dataclass(frozen=True, slots=True)
class TemplateCheck:
    """What saving found: SMS segment counts at the longest values, per channel."""

    sms_segments: SegmentCount | None = None
    channels: tuple[str, ...] = field(default=())


def check_draft(draft: TemplateDraft, max_sms_segments: int) -> TemplateCheck:
    """The draft's figures, or :class:`TemplateError` with every reason it cannot be saved."""
    problems: list[TemplateProblem] = []
    if not draft.name:
        problems.append(TemplateProblem("name_missing", "name"))
    if not draft.topic:
        problems.append(TemplateProblem("topic_missing", "topic"))
    declared = {v.name for v in draft.variables}
    for variable in draft.variables:
        if variable.type not in VARIABLE_TYPES:
            problems.append(TemplateProblem("unknown_type", f"variables.{variable.name}", variable.type))
        if not variable.name.isidentifier():
            problems.append(TemplateProblem("bad_variable_name", f"variables.{variable.name}"))
    if not draft.bodies:
        problems.append(TemplateProblem("no_body", "bodies"))
    for channel, fields in draft.bodies.items():
        allowed = CHANNEL_FIELDS.get(channel)
        if allowed is None:
            problems.append(TemplateProblem("unknown_channel", f"bodies.{channel}"))
            continue
        for name in REQUIRED_FIELDS.get(channel, ("text",)):
            if not fields.get(name):
                problems.append(TemplateProblem("field_missing", f"bodies.{channel}.{name}"))
        for name, source in fields.items():
            where = f"bodies.{channel}.{name}"
            if name not in allowed:
                problems.append(TemplateProblem("unknown_field", where))
                continue
            try:
                used = meta.find_undeclared_variables(_env.parse(source))
            except TemplateSyntaxError as exc:
                problems.append(TemplateProblem("syntax", where, f"line {exc.lineno}: {exc.message}"))
                continue
            problems.extend(TemplateProblem("unknown_variable", where, name) for name in sorted(used - declared))
    if ("button_text" in draft.bodies.get("viber", {})) != ("button_url" in draft.bodies.get("viber", {})):
        problems.append(TemplateProblem("button_incomplete", "bodies.viber"))
    if problems:
        raise TemplateError(tuple(problems))
    longest = {v.name: _longest_value(v) for v in draft.variables}
    segments = None
    for channel in draft.bodies:
        text = _render_field(draft.bodies[channel]["text"], longest, html=False) if "text" in draft.bodies[channel] else ""
        if channel == "sms":
            segments = count_segments(text)
            if segments.segments > max_sms_segments:
                problems.append(TemplateProblem("too_many_segments", "bodies.sms.text",
                                                f"{segments.segments} > {max_sms_segments}"))
        elif channel in ("viber", "viber_business") and len(text) > VIBER_MAX_CHARS:
            problems.append(TemplateProblem("too_long", f"bodies.{channel}.text", f"{len(text)} > {VIBER_MAX_CHARS}"))
    if problems:
        raise TemplateError(tuple(problems))
    return TemplateCheck(sms_segments=segments, channels=tuple(draft.bodies))


def _longest_value(variable: Variable) -> str:
    # Cyrillic at full length: the widest a text value can make an SMS (UCS-2).
    if variable.type == "text":
        return "Щ" * variable.max_length
    return "9" * _SAMPLE_LENGTH.get(variable.type, variable.max_length)


def coerce_values(variables: tuple[Variable, ...], values: Mapping[str, Any]) -> dict[str, str]:
    """The values as the template shows them; a missing, unknown or ill-typed one is a :class:`TemplateError`."""
    problems: list[TemplateProblem] = []
    declared = {v.name: v for v in variables}
    problems.extend(TemplateProblem("unknown_variable", f"values.{name}") for name in sorted(set(values) - set(declared)))
    shown: dict[str, str] = {}
    for name, variable in declared.items():
        if name not in values or values[name] is None or values[name] == "":
            problems.append(TemplateProblem("value_missing", f"values.{name}"))
            continue
        try:
            shown[name] = _show(variable, values[name])
        except (ValueError, TypeError, InvalidOperation):
            problems.append(TemplateProblem("bad_value", f"values.{name}", variable.type))
    if problems:
        raise TemplateError(tuple(problems))
    return shown


def _show(variable: Variable, value: Any) -> str:
    if variable.type == "number":
        return str(int(Decimal(str(value))))
    if variable.type == "money":
        return f"{Decimal(str(value)).quantize(Decimal('0.01')):f}".replace(".", ",")
    if variable.type == "date":
        return (value if isinstance(value, date) else date.fromisoformat(str(value))).strftime("%d.%m.%Y")
    return str(value)[: variable.max_length]


def render(variables: tuple[Variable, ...], bodies: Mapping[str, Mapping[str, str]], channel: str,
           values: Mapping[str, Any]) -> RenderedMessage:
    """The message for ``channel``; :class:`TemplateError` when the template has no body for it or a
    value is missing or wrong."""
    fields = bodies.get(channel)
    if fields is None:
        raise TemplateError((TemplateProblem("no_body_for_channel", f"bodies.{channel}"),))
    shown = coerce_values(variables, values)
    try:
        out = {name: _render_field(source, shown, html=name == "html") for name, source in fields.items()}
    except UndefinedError as exc:
        raise TemplateError((TemplateProblem("value_missing", f"bodies.{channel}", str(exc)),)) from exc
    except (SecurityError, JinjaError) as exc:  # unsafe code in a body, refused by the sandbox
        raise TemplateError((TemplateProblem("render_failed", f"bodies.{channel}", str(exc)),)) from exc
    text = out.get("text", "")
    return RenderedMessage(channel=channel, text=text, subject=out.get("subject"), html=out.get("html"),
                           button_text=out.get("button_text"), button_url=out.get("button_url"),
                           image_url=out.get("image_url"),
                           segments=count_segments(text) if channel == "sms" else None)


def _render_field(source: str, values: Mapping[str, str], *, html: bool) -> str:
    return (_html_env if html else _env).from_string(source).render(values)

"""Every exception class of ours survives pickling with its fields, so it can cross a Ray actor boundary
(a refusal raised in a channel actor reaches the gateway as itself, not as a 500)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

from channels.voice.codec import AmiMessage
from routing.informing.templates import TemplateProblem

PACKAGES = ("actors", "channels", "crm_core", "dashboards", "routing")
SAMPLES = {"int": 403, "str": "why", "int | None": 400, "str | None": "detail",
           "dict[str, Any] | None": {"term": "x"}, "AmiMessage": AmiMessage({"response": "Error", "message": "no"})}
BY_CLASS = {"_Refusal": (3,),  # a Viber status code the sandbox knows
            "TemplateError": ((TemplateProblem("unknown_variable", "sms", "debt"),),)}


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" in info.name:
                continue
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == info.name:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


CLASSES = _exception_classes()


def _sample(cls: type[BaseException]) -> BaseException:
    if cls.__qualname__ in BY_CLASS:
        return cls(*BY_CLASS[cls.__qualname__])
    args = []
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind is param.VAR_KEYWORD:
            continue
        if param.kind is param.VAR_POSITIONAL:
            args.append("message")
            continue
        assert param.annotation in SAMPLES, f"{cls.__qualname__}({name}: {param.annotation}): add a sample"
        args.append(SAMPLES[param.annotation])
    return cls(*args)


def test_the_walk_finds_the_refusals_that_cross_ray():
    names = {cls.__qualname__ for cls in CLASSES}
    assert {"WebhookRejected", "ApiError", "ChannelError", "EntityUnavailable", "ConfigError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_exception_survives_pickling_with_its_fields(cls):
    original = _sample(cls)
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is cls
    assert str(copy) == str(original)
    fields = {k: v for k, v in vars(original).items() if k != "response"} if hasattr(original, "__dict__") else {}
    assert {k: v for k, v in vars(copy).items() if k in fields} == fields


def test_api_error_keeps_its_extra_fields():
    from dashboards.errors import ApiError

    copy = pickle.loads(pickle.dumps(ApiError(400, "invalid_field", "name: expected string", field="name")))
    assert (copy.status, copy.code, copy.detail, copy.extra) == (400, "invalid_field", "name: expected string",
                                                                {"field": "name"})

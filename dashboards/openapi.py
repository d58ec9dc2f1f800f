"""The OpenAPI 3.1 document, built from the same endpoint declarations that guard the handlers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from dashboards.api import NUMERIC_IDS, ApiRoutes, Endpoint

ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "detail": {"type": "string"},
                        "field": {"type": "string"}}}


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    """Every answer the endpoint gives: those of its kind (a body, a path naming a thing, a login) and
    those it declares."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    declared = dict(endpoint.statuses)
    if not any(200 <= status < 300 for status in declared):
        declared[200] = "OK"
    # every request's path and query are checked for text that cannot be stored (dashboards/schema.py)
    declared.setdefault(400, "Malformed query, path or body: NUL, broken text or an invalid value")
    if "{" in endpoint.path:
        declared.setdefault(404, "No such " + ", ".join(re.findall(r"{(\w+)}", endpoint.path)))
    if endpoint.body is not None:
        declared.setdefault(408, "The body did not arrive in time")
        declared.setdefault(413, "Body too large")
        declared.setdefault(415, "The body is not application/json")
    if not endpoint.public:
        declared.setdefault(401, "Not logged in or session expired")
        declared.setdefault(403, "The role lacks the right")
    declared.setdefault(503, "Database or engine unavailable; retry (Retry-After)")
    declared.setdefault(504, "The engine did not answer in time; retry (Retry-After)")
    responses: dict[str, Any] = {}
    for status in sorted(declared):
        if status == 204:
            responses["204"] = {"description": declared[status]}
        elif 200 <= status < 300:
            responses[str(status)] = {"description": declared[status], "content": {endpoint.produces: {}}}
        else:
            responses[str(status)] = {"description": declared[status], **error}
    return responses


def _path_schema(name: str) -> dict[str, Any]:
    if name in NUMERIC_IDS:
        return {"type": "string", "pattern": f"^[0-9]{{1,{NUMERIC_IDS[name]}}}$"}
    return {"type": "string"}


def document(groups: Iterable[ApiRoutes], title: str = "Switchboard", version: str = "1") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for group in groups:
        for endpoint, _ in group.endpoints:
            parameters = [{"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
                          for name in re.findall(r"{(\w+)", endpoint.path)]
            parameters += [{"name": name, "in": "query", "required": False, "description": text,
                            "schema": {"type": "string"}} for name, text in endpoint.query.items()]
            operation: dict[str, Any] = {
                "summary": endpoint.summary, "tags": [endpoint.tag],
                "operationId": f"{endpoint.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', endpoint.path.lower()).strip('_')}",
                "responses": _responses(endpoint)}
            if parameters:
                operation["parameters"] = parameters
            if endpoint.body is not None:
                schemas[endpoint.body.name] = endpoint.body.json_schema()
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{endpoint.body.name}"}}}}
            if endpoint.permission:
                operation["x-permission"] = list(endpoint.permission)
            if endpoint.public:
                operation["security"] = []
            paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0", "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "sb_session"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
        "security": [{"bearer": []}, {"session": []}],
    }

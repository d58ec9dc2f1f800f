"""The OpenAPI 3.1 document, built from the same endpoint declarations that guard the handlers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from dashboards.api import ApiRoutes

ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "detail": {"type": "string"},
                        "field": {"type": "string"}}}


def _responses(produces: str, public: bool, has_body: bool) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {produces: {}}}}
    if has_body:
        responses["400"] = {"description": "Malformed JSON, unknown or invalid field", **error}
        responses["413"] = {"description": "Body too large", **error}
    if not public:
        responses["401"] = {"description": "Not logged in or session expired", **error}
        responses["403"] = {"description": "The role lacks the right", **error}
    responses["503"] = {"description": "Database or engine unavailable; retry", **error}
    return responses


def document(groups: Iterable[ApiRoutes], title: str = "Switchboard", version: str = "1") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for group in groups:
        for endpoint, _ in group.endpoints:
            parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                          for name in re.findall(r"{(\w+)", endpoint.path)]
            parameters += [{"name": name, "in": "query", "required": False, "description": text,
                            "schema": {"type": "string"}} for name, text in endpoint.query.items()]
            operation: dict[str, Any] = {
                "summary": endpoint.summary, "tags": [endpoint.tag],
                "operationId": f"{endpoint.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', endpoint.path.lower()).strip('_')}",
                "responses": _responses(endpoint.produces, endpoint.public, endpoint.body is not None)}
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

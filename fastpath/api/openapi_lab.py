"""The OpenAPI parts of the lab views: SUTs with their drains, users' updates (merged by `openapi`)."""

from __future__ import annotations

from fastpath.api.openapi import AUTH_ERRORS, TIME, _errors, _ok, _ref

NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


SCHEMAS = {
    "SutDetail": {"allOf": [_ref("Sut"), {"type": "object", "properties": {
        "sutclass": {"type": "string"},
        "kernel": {"type": "string", "nullable": True,
                   "description": "the kernel release it was last seen running"},
        "last_error": {"type": "string", "nullable": True,
                       "description": "why it is not healthy, when it is not"},
        "held_by": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": ["job", "lease"]}, "id": {"type": "integer"},
            "user": {"type": "string", "nullable": True}}},
        "maintenance": {"type": "object", "properties": {
            "declared": {"type": "boolean", "description": "maintenance: true in --sutclasses"},
            "drained": {"type": "boolean", "description": "an admin's drain, stored"},
            "drained_at": TIME, "drained_by": {"type": "string", "nullable": True},
            "reason": {"type": "string", "nullable": True}}},
    }}]},
}

PATHS = {
    "/suts": {"get": {
        "summary": "SUTs with health, holder, running kernel and last error (query)",
        "parameters": [{"name": "sutclass", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": _ok({"suts": {"type": "array", "items": _ref("SutDetail")}}, ["suts"]),
                      **_errors(400, 404, *AUTH_ERRORS)}}},
    "/suts/{name}": {
        "get": {"summary": "One SUT (query)", "parameters": [NAME],
                "responses": {"200": _ok({"sut": _ref("SutDetail")}, ["sut"]),
                              **_errors(404, *AUTH_ERRORS)}},
        "patch": {
            "summary": "Drain a SUT or lift its drain (admin): a running job or lease finishes, "
                       "nothing new starts on it; stored, so restarts and reloads keep it",
            "parameters": [NAME],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"maintenance": {"type": "boolean"},
                               "reason": {"type": "string", "maxLength": 500}},
                "required": ["maintenance"]}}}},
            "responses": {"200": _ok({"sut": _ref("SutDetail")}, ["sut"]),
                          **_errors(400, 404, 413, *AUTH_ERRORS)}},
    },
    "/users/{name}": {"patch": {
        "summary": "Change a user's capabilities, or disable or enable it (admin)",
        "parameters": [NAME],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False,
            "properties": {"capabilities": {"type": "string"}, "disabled": {"type": "boolean"}}}}}},
        "responses": {"200": _ok({"user": _ref("User")}, ["user"]),
                      **_errors(400, 404, 413, *AUTH_ERRORS)}}},
    "/users/{name}/token": {"post": {
        "summary": "A new token for the user; the old one stops working at once (admin)",
        "parameters": [NAME],
        "responses": {"200": _ok({"user": _ref("User"), "token": {"type": "string"}},
                                 ["user", "token"]), **_errors(404, *AUTH_ERRORS)}}},
}

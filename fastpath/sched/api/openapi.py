"""`/openapi.json`: the API description, kept true by tests against the running app."""

from __future__ import annotations

import copy

from fastpath import __version__


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema_props: dict, required: list[str], description: str = "success") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"status": {"type": "string", "enum": ["success"]}, **schema_props},
            "required": ["status", *required],
        }}},
    }


def _errors(*codes: int) -> dict:
    text = {400: "bad input", 401: "no or unknown token", 403: "capability or ownership",
            404: "not found", 409: "wrong state", 413: "too large", 503: "database unavailable"}
    return {
        str(c): {"description": text[c],
                 "content": {"application/json": {"schema": _ref("Error")}}}
        for c in codes
    }


TIME = {"type": "string", "format": "date-time", "nullable": True}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
LIST_FILTERS = [
    {"name": "states", "in": "query", "schema": {"type": "string"},
     "description": "comma-separated states (repeatable); default: the active states"},
    {"name": "users", "in": "query", "schema": {"type": "string"},
     "description": "comma-separated user names (repeatable); default: the caller"},
    {"name": "all_users", "in": "query", "schema": {"type": "boolean"}},
    {"name": "all_states", "in": "query", "schema": {"type": "boolean"}},
]
WINDOW = [
    {"name": "from", "in": "query", "schema": {"type": "string"},
     "description": "start of the usage window: 2026-03-01 or an ISO 8601 time (UTC)"},
    {"name": "to", "in": "query", "schema": {"type": "string"},
     "description": "end of the usage window (default: now)"},
]
AUTH_ERRORS = (401, 403, 503)

SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["error"]},
                       "title": {"type": "string"}, "description": {"type": "string"}},
        "required": ["status", "title", "description"],
    },
    "User": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "capabilities": {"type": "string"}, "created_at": TIME},
        "required": ["id", "name", "capabilities"],
    },
    "SutAccess": {
        "type": "object", "nullable": True,
        "properties": {"name": {"type": "string"}, "host": {"type": "string"},
                       "port": {"type": "integer"}, "user": {"type": "string", "nullable": True}},
    },
    "Sut": {
        "type": "object",
        "properties": {
            "name": {"type": "string"}, "host": {"type": "string"}, "port": {"type": "integer"},
            "user": {"type": "string", "nullable": True},
            "health": {"type": "string",
                       "enum": ["unknown", "healthy", "unhealthy", "maintenance", "retired"]},
            "reason": {"type": "string", "nullable": True}, "last_ok_at": TIME,
            "held_by": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["job", "lease"]}, "id": {"type": "integer"}}},
        },
        "required": ["name", "health"],
    },
    "SutClass": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "enabled": {"type": "boolean"},
            "created_at": TIME, "params": {"type": "object"},
            "usage": {"type": "object", "properties": {
                "in_use": {"type": "integer"}, "total": {"type": "integer"},
                "window": {"type": "object", "properties": {
                    "from": TIME, "to": TIME, "share": {"type": "number"}}}}},
            "suts": {"type": "array", "items": _ref("Sut")},
            "queue": {"type": "object", "properties": {
                "jobs": {"type": "integer"}, "leases": {"type": "integer"}}},
        },
        "required": ["id", "name", "enabled", "usage"],
    },
    "Lease": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "user": {"type": "string"}, "sutclass": {"type": "string"},
            "state": {"type": "string",
                      "enum": ["queued", "acquired", "released", "cancelled", "expired"]},
            "priority": {"type": "integer", "minimum": 0, "maximum": 10},
            "queued_at": TIME, "acquired_at": TIME, "ended_at": TIME,
            "sut": _ref("SutAccess"),
            "position": {"type": "integer", "nullable": True,
                         "description": "place in the class's queue while queued"},
        },
        "required": ["id", "user", "sutclass", "state", "priority"],
    },
}

PATHS = {
    "/healthz": {"get": {
        "summary": "Liveness, and readiness of the database", "security": [],
        "responses": {"200": _ok({"database": {"type": "string"}}, ["database"]),
                      **_errors(503)}}},
    "/openapi.json": {"get": {
        "summary": "This document", "security": [],
        "responses": {"200": {"description": "the OpenAPI document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/users": {
        "post": {
            "summary": "Create a user and its token (admin)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"name": {"type": "string"},
                               "capabilities": {"type": "string", "example": "exec,query"}},
                "required": ["name", "capabilities"]}}}},
            "responses": {"201": _ok({"user_id": {"type": "integer"}, "token": {"type": "string"}},
                                     ["user_id", "token"], "created"),
                          **_errors(400, 409, 413, *AUTH_ERRORS)}},
        "get": {"summary": "List users (admin)",
                "responses": {"200": _ok({"users": {"type": "array", "items": _ref("User")}},
                                         ["users"]), **_errors(*AUTH_ERRORS)}},
    },
    "/sutclasses": {"get": {
        "summary": "SUT classes with current usage, or usage over a window", "parameters": WINDOW,
        "responses": {"200": _ok({"sutclasses": {"type": "array", "items": _ref("SutClass")}},
                                 ["sutclasses"]), **_errors(400, *AUTH_ERRORS)}}},
    "/sutclasses/{name}": {"get": {
        "summary": "One SUT class with its SUTs and queue",
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string"}}, *WINDOW],
        "responses": {"200": _ok({"sutclass": _ref("SutClass")}, ["sutclass"]),
                      **_errors(400, 404, *AUTH_ERRORS)}}},
    "/leases": {
        "post": {
            "summary": "Ask for a SUT of a class (lease)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"sutclass": {"type": "string"},
                               "priority": {"type": "integer", "minimum": 0, "maximum": 10}},
                "required": ["sutclass"]}}}},
            "responses": {"201": _ok({"lease": _ref("Lease")}, ["lease"], "queued"),
                          **_errors(400, 404, 409, 413, *AUTH_ERRORS)}},
        "get": {"summary": "List leases (query or lease)", "parameters": LIST_FILTERS,
                "responses": {"200": _ok({"leases": {"type": "array", "items": _ref("Lease")}},
                                         ["leases"]), **_errors(400, *AUTH_ERRORS)}},
    },
    "/leases/{id}": {"get": {
        "summary": "One lease; with wait, long-poll until it leaves queued",
        "parameters": [ID, {"name": "wait", "in": "query",
                            "schema": {"type": "number", "minimum": 0, "maximum": 60}}],
        "responses": {"200": _ok({"lease": _ref("Lease")}, ["lease"]),
                      **_errors(400, 404, *AUTH_ERRORS)}}},
    "/leases/{id}/release": {"post": {
        "summary": "Release an acquired lease or cancel a queued one (owner or admin)",
        "parameters": [ID],
        "responses": {"200": _ok({"lease": _ref("Lease")}, ["lease"]),
                      **_errors(404, 409, *AUTH_ERRORS)}}},
}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Fastpath scheduler API", "version": __version__},
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": copy.deepcopy(PATHS),
    }


class OpenAPI:
    public = True

    def on_get(self, req, resp) -> None:
        resp.media = document()

"""The OpenAPI parts of the lab views: SUTs with their drains, users' updates (merged by `openapi`)."""

from __future__ import annotations

from fastpath.api.listing import words_of
from fastpath.api.openapi import AUTH_ERRORS, CAPABILITIES, DATE, TIME, _errors, _ok, _ref
from fastpath.store.queries import events

NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


SCHEMAS = {
    "Event": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": TIME,
        "actor": {"type": "string", "description": "who: a user, the controller, the configuration"},
        "kind": {"type": "string", "description": "what: lease, plan, job, sut, sutclass, user"},
        "ref": {"type": "integer", "description": "the record's id"},
        "name": {"type": "string", "nullable": True, "description": "a SUT's, class's or user's name"},
        "from": {"type": "string", "nullable": True}, "to": {"type": "string", "nullable": True},
        "detail": {"type": "string", "nullable": True}},
        "required": ["id", "at", "actor", "kind", "ref"]},
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
    "/events": {"get": {
        "summary": "The event log, oldest first: who did what, from which state to which, when (query)",
        "parameters": [
            {"name": "since", "in": "query", "schema": {"type": "string", "pattern": DATE},
             "description": "events at or after this date or ISO time (UTC)"},
            {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0},
             "description": "events after this event id (to page on)"},
            {"name": "kind", "in": "query",
             "schema": {"type": "string", "pattern": words_of(events.KINDS)},
             "description": "comma-separated kinds: lease, plan, job, sut, sutclass, user"},
            {"name": "sutclass", "in": "query", "schema": {"type": "string"},
             "description": "events about the records of this SUT class"},
            {"name": "user", "in": "query", "schema": {"type": "string"},
             "description": "events this user caused, or about their leases, plans and jobs"},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
        "responses": {"200": _ok({"events": {"type": "array", "items": _ref("Event")}}, ["events"]),
                      **_errors(400, 404, *AUTH_ERRORS)}}},
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
            "properties": {"capabilities": {"type": "string", "pattern": CAPABILITIES},
                           "disabled": {"type": "boolean"}},
            "minProperties": 1}}}},
        "responses": {"200": _ok({"user": _ref("User")}, ["user"]),
                      **_errors(400, 404, 413, *AUTH_ERRORS)}}},
    "/users/{name}/token": {"post": {
        "summary": "A new token for the user; the old one stops working within 2 s (admin)",
        "parameters": [NAME],
        "responses": {"200": _ok({"user": _ref("User"), "token": {"type": "string"}},
                                 ["user", "token"]), **_errors(404, *AUTH_ERRORS)}}},
}

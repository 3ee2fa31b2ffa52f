"""`/openapi.json`: the API description, kept true by tests against the running app."""

from __future__ import annotations

import copy

from fastpath import __version__
from fastpath.api.listing import USERS, words_of
from fastpath.api.request import DATE
from fastpath.core.states import JobState, LeaseState, PlanState, Publish, SutState, words


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
ID = {"name": "id", "in": "path", "required": True,
      "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}


def list_filters(states) -> list[dict]:
    """The filters of a listing whose records have the `states` enum."""
    return [
        {"name": "states", "in": "query", "schema": {"type": "string", "pattern": words_of(states)},
         "description": "comma-separated states (repeatable): "
                        f"{', '.join(words(states))}; default: the active states"},
        {"name": "users", "in": "query", "schema": {"type": "string", "pattern": USERS},
         "description": "comma-separated user names (repeatable); default: the caller"},
        {"name": "all_users", "in": "query", "schema": {"type": "boolean"}},
        {"name": "all_states", "in": "query", "schema": {"type": "boolean"}},
    ]


WINDOW = [
    {"name": "from", "in": "query", "schema": {"type": "string", "pattern": DATE},
     "description": "start of the usage window: 2026-03-01 or an ISO 8601 time like "
                    "2026-03-01T12:00Z (UTC unless it says otherwise)"},
    {"name": "to", "in": "query", "schema": {"type": "string", "pattern": DATE},
     "description": "end of the usage window (default: now); later than from"},
]
AUTH_ERRORS = (401, 403, 503)
USER_NAME = "^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
DURATION = {"oneOf": [{"type": "string", "example": "2h"}, {"type": "number", "minimum": 0}],
            "description": "like 30m, 2h or 1d, or seconds"}
ETA = {"type": "string", "description": "while queued: the estimated start (date-time, UTC), from "
       "lease expiries and the durations of past jobs of the same plan or benchmarks; "
       "\"unknown\" without them"}
CAPABILITIES = "^(admin|exec|lease|query)(,(admin|exec|lease|query))*$"

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
                       "capabilities": {"type": "string"}, "created_at": TIME,
                       "disabled": {"type": "boolean"}},
        "required": ["id", "name", "capabilities"],
    },
    "SutAccess": {
        "type": "object", "nullable": True,
        "properties": {"name": {"type": "string"}, "host": {"type": "string"},
                       "port": {"type": "integer"}, "user": {"type": "string", "nullable": True},
                       "host_key": {"type": "string", "nullable": True,
                                    "description": "the SUT's SSH host key, to check it by"}},
    },
    "Sut": {
        "type": "object",
        "properties": {
            "name": {"type": "string"}, "host": {"type": "string"}, "port": {"type": "integer"},
            "user": {"type": "string", "nullable": True},
            "health": {"type": "string",
                       "enum": words(SutState)},
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
                      "enum": words(LeaseState)},
            "priority": {"type": "integer", "minimum": 0, "maximum": 10},
            "queued_at": TIME, "acquired_at": TIME, "ended_at": TIME,
            "sut": _ref("SutAccess"),
            "position": {"type": "integer", "nullable": True,
                         "description": "place in the class's queue while queued"},
            "duration": {"type": "number", "nullable": True,
                         "description": "seconds asked for; the clock starts at acquired_at"},
            "expires_at": {**TIME, "description": "the deadline: acquired_at + duration, "
                                                  "moved by extends; null until acquired"},
            "ssh_key_fingerprint": {"type": "string", "nullable": True,
                                    "description": "SHA256 fingerprint of the lessee's key"},
            "ssh_key_note": {"type": "string", "nullable": True,
                             "description": "why the lessee's key was not installed"},
            "kernel": {"type": "object", "nullable": True,
                       "description": "the kernel running on the SUT when it was acquired",
                       "properties": {"release": {"type": "string", "nullable": True},
                                      "cmdline": {"type": "string", "nullable": True}}},
            "reason": {"type": "string", "nullable": True,
                       "description": "while queued: why, in words (who holds each SUT of the "
                                      "class and until when, which cannot serve and since when)"},
            "eta": ETA,
        },
        "required": ["id", "user", "sutclass", "state", "priority"],
    },
    "Job": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "swprofile": {"type": "string"},
            "session": {"type": "integer", "description": "1-based session of its swprofile"},
            "state": {"type": "string", "enum": words(JobState)},
            "priority": {"type": "integer", "minimum": 0, "maximum": 10},
            "sut": {"type": "string", "nullable": True},
            "attempts": {"type": "integer"},
            "step": {"type": "string", "nullable": True,
                     "description": "the step in progress while assigned or running"},
            "results": {"type": "integer"}, "errors": {"type": "integer"},
            "last_error": {"type": "string", "nullable": True},
            "publish": {"type": "string", "nullable": True, "enum": [*words(Publish), None]},
            "session_id": {"type": "string", "nullable": True},
            "queued_at": TIME, "assigned_at": TIME, "finished_at": TIME,
            "plan": {"type": "integer"},
            "placement": {"type": "string", "nullable": True,
                          "description": "why the job ran elsewhere than its plan's placement "
                                         "asked (a `same` plan whose SUT was no longer usable)"},
            "steps": {"type": "array", "description": "the recorded steps of the last attempt",
                      "items": {"type": "object", "properties": {
                          "step": {"type": "string"}, "started_at": TIME,
                          "seconds": {"type": "number", "nullable": True,
                                      "description": "how long it took; null while it goes on"}}}},
        },
        "required": ["id", "swprofile", "session", "state", "attempts"],
    },
    "JobLog": {
        "type": "object",
        "properties": {
            "collected": {"type": "boolean",
                          "description": "whether the job's files were collected into the storage"},
            "driver_log": {"type": "array", "nullable": True, "items": {"type": "string"},
                           "description": "the last lines of the job driver's log"},
            "failed_runs": {"type": "array", "items": {"type": "object", "properties": {
                "benchmark": {"type": "string", "nullable": True},
                "phase": {"type": "string", "nullable": True},
                "index": {"type": "integer", "nullable": True},
                "code": {"type": "integer", "nullable": True},
                "exit": {"type": "string", "nullable": True,
                         "description": "the container's exit status as the driver recorded it"},
                "message": {"type": "string", "nullable": True},
                "output": {"type": "array", "nullable": True, "items": {"type": "string"},
                           "description": "the last lines of the run's output"}}}},
        },
        "required": ["collected", "failed_runs"],
    },
    "Plan": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string", "nullable": True},
            "user": {"type": "string"}, "sutclass": {"type": "string"},
            "priority": {"type": "integer", "minimum": 0, "maximum": 10},
            "state": {"type": "string",
                      "enum": words(PlanState)},
            "publish": {"type": "boolean"},
            "publishing": {"type": "string", "nullable": True,
                           "enum": [*words(Publish), None],
                           "description": "publishing to the resultstore: skipped (not asked), "
                                          "pending (some jobs' results not yet published), done"},
            "cancel_requested": {"type": "boolean"},
            "last_error": {"type": "object", "nullable": True,
                           "description": "one plan: the last error of its jobs, and which job",
                           "properties": {"job": {"type": "integer"}, "error": {"type": "string"}}},
            "queue": {"type": "object", "description": "while some jobs are queued: the first "
                      "of them in the class's queue, its place, why it waits, when it should start",
                      "properties": {"job": {"type": "integer"}, "position": {"type": "integer"},
                                     "reason": {"type": "string"}, "eta": ETA},
                      "required": ["job", "position", "reason", "eta"]},
            "progress": {"type": "object", "properties": {
                k: {"type": "integer"} for k in ("completed", "total", "failed", "cancelled",
                                                  "queued", "running", "results", "errors")},
                "required": ["completed", "total"]},
            "queued_at": TIME, "started_at": TIME, "completed_at": TIME,
            "jobs": {"type": "array", "items": _ref("Job"),
                     "description": "only when one plan is read, updated or cancelled"},
            "resultstore": {"type": "string", "nullable": True,
                            "description": "only when one plan is read: the URL of the resultstore "
                                           "its results are published to, password masked"},
        },
        "required": ["id", "user", "sutclass", "priority", "state", "progress"],
    },
}

PLAN_SUBMISSION = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "plan": {"type": "object",
                 "description": "the plan document; `sut: {sutclass: NAME, placement: spread|same}`"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 10, "default": 5},
        "publish": {"type": "boolean", "default": True},
        "dry_run": {"type": "boolean", "default": False,
                    "description": "check token, capability, plan and SUT class; record nothing "
                                   "(file fields may still name the client's paths)"},
    },
    "required": ["plan"],
}
DIGEST_PARAM = {"name": "digest", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}}
DIGEST_LIST = {"type": "array", "maxItems": 1000,
               "items": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}}
PLAN_FORM = {
    "type": "object",
    "properties": {
        "plan": {"type": "string", "minLength": 2, "description": "the plan document as JSON"},
        "priority": {"type": "string", "example": "5"},
        "publish": {"type": "string", "enum": ["true", "false"]},
    },
    "additionalProperties": {"type": "string", "format": "binary",
                             "description": "one file part per path field of the plan, named by "
                                            "the field, e.g. swprofiles[0].kernel"},
    "required": ["plan"],
}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
               "description": "a retried request with the same key is done only once"}

PATHS = {
    "/healthz": {"get": {
        "summary": "Liveness, and readiness of the database", "security": [],
        "responses": {"200": _ok({"database": {"type": "string"}}, ["database"]),
                      **_errors(503)}}},
    "/openapi.json": {"get": {
        "summary": "This document", "security": [],
        "responses": {"200": {"description": "the OpenAPI document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/metrics": {"get": {
        "summary": "The lab's metrics in Prometheus' text format (no token: no label names a user)",
        "security": [],
        "responses": {"200": {"description": "Prometheus text exposition format 0.0.4",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/users": {
        "post": {
            "summary": "Create a user and its token (admin)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"name": {"type": "string", "pattern": USER_NAME},
                               "capabilities": {"type": "string", "pattern": CAPABILITIES,
                                                "example": "exec,query"}},
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
            "parameters": [IDEMPOTENCY],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"sutclass": {"type": "string"},
                               "priority": {"type": "integer", "minimum": 0, "maximum": 10},
                               "duration": DURATION,
                               "ssh_key": {"type": "string", "description":
                                           "the lessee's OpenSSH public key line"}},
                "required": ["sutclass"]}}}},
            "responses": {"201": _ok({"lease": _ref("Lease")}, ["lease"], "queued"),
                          "200": _ok({"lease": _ref("Lease")}, ["lease"],
                                     "a retry of a request already done (same Idempotency-Key)"),
                          **_errors(400, 404, 409, 413, *AUTH_ERRORS)}},
        "get": {"summary": "List leases (query or lease)", "parameters": list_filters(LeaseState),
                "responses": {"200": _ok({"leases": {"type": "array", "items": _ref("Lease")}},
                                         ["leases"]), **_errors(400, 404, *AUTH_ERRORS)}},
    },
    "/leases/{id}": {"get": {
        "summary": "One lease; with wait, long-poll until it leaves queued",
        "parameters": [ID, {"name": "wait", "in": "query",
                            "schema": {"type": "number", "minimum": 0, "maximum": 60}}],
        "responses": {"200": _ok({"lease": _ref("Lease")}, ["lease"]),
                      **_errors(400, 404, *AUTH_ERRORS)}}},
    "/plans": {
        "post": {
            "summary": "Submit a plan (exec): JSON, or multipart with its files",
            "parameters": [IDEMPOTENCY],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": PLAN_SUBMISSION},
                "multipart/form-data": {"schema": PLAN_FORM}}},
            "responses": {"201": _ok({"plan": _ref("Plan")}, ["plan"], "queued"),
                          "200": _ok({"plan": _ref("Plan"),
                                      "dry_run": {"type": "boolean", "enum": [True]},
                                      "sutclass": {"type": "string"},
                                      "jobs": {"type": "integer"}, "files": {"type": "integer"}},
                                     [], "a retry of a request already done (same "
                                     "Idempotency-Key), with its plan; or a dry run's check, "
                                     "with the jobs it would queue"),
                          **_errors(400, 404, 409, 413, *AUTH_ERRORS)}},
        "get": {"summary": "List plans (query)", "parameters": list_filters(PlanState),
                "responses": {"200": _ok({"plans": {"type": "array", "items": _ref("Plan")}},
                                         ["plans"]), **_errors(400, 404, *AUTH_ERRORS)}},
    },
    "/blobs/missing": {"post": {
        "summary": "Which of these file digests you still have to upload (exec); each one you "
                   "sent before and that is still stored is kept for the storage grace period",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False,
            "properties": {"digests": DIGEST_LIST}, "required": ["digests"]}}}},
        "responses": {"200": _ok({"missing": DIGEST_LIST}, ["missing"]),
                      **_errors(400, 413, *AUTH_ERRORS)}}},
    "/blobs/{digest}": {"put": {
        "summary": "Upload a file as a raw body, named by its sha256 (exec); stored only if its "
                   "content has that digest. A plan then refers to it by digest; unreferenced "
                   "blobs go after the storage grace period. Blobs cannot be read back",
        "parameters": [DIGEST_PARAM],
        "requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        "responses": {"201": _ok({"blob": {"type": "object", "properties": {
                          "digest": {"type": "string"}, "size": {"type": "integer"}},
                          "required": ["digest", "size"]}}, ["blob"], "stored"),
                      **_errors(400, 413, *AUTH_ERRORS)}}},
    "/plans/{id}": {
        "get": {"summary": "One plan with its jobs (query)", "parameters": [ID],
                "responses": {"200": _ok({"plan": _ref("Plan")}, ["plan"]),
                              **_errors(404, *AUTH_ERRORS)}},
        "patch": {
            "summary": "Change the priority of a plan's queued jobs (owner or admin)",
            "parameters": [ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"priority": {"type": "integer", "minimum": 0, "maximum": 10}},
                "required": ["priority"]}}}},
            "responses": {"200": _ok({"plan": _ref("Plan")}, ["plan"]),
                          **_errors(400, 404, 409, 413, *AUTH_ERRORS)}},
    },
    "/plans/{id}/cancel": {"post": {
        "summary": "Cancel a plan: queued jobs at once, running jobs finish (owner or admin)",
        "parameters": [ID],
        "responses": {"200": _ok({"plan": _ref("Plan")}, ["plan"]),
                      **_errors(404, 409, *AUTH_ERRORS)}}},
    "/leases/{id}/extend": {"post": {
        "summary": "Extend an acquired lease (owner or admin; within the class maximum "
                   "from acquisition unless admin)",
        "parameters": [ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False,
            "properties": {"duration": DURATION}, "required": ["duration"]}}}},
        "responses": {"200": _ok({"lease": _ref("Lease")}, ["lease"]),
                      **_errors(400, 404, 409, 413, *AUTH_ERRORS)}}},
    "/jobs/{id}": {"get": {
        "summary": "One job of a plan, with the time of each recorded step (query)",
        "parameters": [ID],
        "responses": {"200": _ok({"job": _ref("Job")}, ["job"]), **_errors(404, *AUTH_ERRORS)}}},
    "/jobs/{id}/log": {"get": {
        "summary": "What the job left in the server's storage: its driver's log, and each failed "
                   "run's exit status and last lines of output (query)",
        "parameters": [ID, {"name": "lines", "in": "query", "description": "lines of output per run",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
        "responses": {"200": _ok({"job": _ref("Job"), "log": _ref("JobLog")}, ["job", "log"]),
                      **_errors(400, 404, *AUTH_ERRORS)}}},
    "/leases/{id}/release": {"post": {
        "summary": "Release an acquired lease or cancel a queued one (owner or admin)",
        "parameters": [ID],
        "responses": {"200": _ok({"lease": _ref("Lease")}, ["lease"]),
                      **_errors(404, 409, *AUTH_ERRORS)}}},
}


def document() -> dict:
    from fastpath.api import openapi_lab  # its paths use this module's helpers

    return {
        "openapi": "3.0.3",
        "info": {"title": "Fastpath scheduler API", "version": __version__},
        "components": {
            "schemas": copy.deepcopy({**SCHEMAS, **openapi_lab.SCHEMAS}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": copy.deepcopy({**PATHS, **openapi_lab.PATHS}),
    }


class OpenAPI:
    public = True

    def on_get(self, req, resp) -> None:
        resp.media = document()


"""`/plans`: submit a plan (JSON, or multipart with its files), track it, change it.

A JSON submission names each file by the digest of a blob its user uploaded
before (fastpath.api.blobs); a multipart one (older clients) streams each file
part straight into the content-addressed storage. Either way the stored plan
refers to files by digest only, and every path field must be such a blob or
come with its upload: the server never reads a path named in a plan. Nothing
is recorded unless the whole plan is valid. `"dry_run": true` checks a JSON
submission (token, capability, plan, SUT class) and records nothing: a client
does it before sending any file.
"""

from __future__ import annotations

import re

import falcon

from fastpath.api.blobs import held_by
from fastpath.api.listing import owner_filter, state_filter
from fastpath.api.middleware import ensure_owner, needs
from fastpath.api.queue import QueueCache, Queues
from fastpath.api.request import (
    MAX_JSON,
    WholeBody,
    body,
    idempotency_key,
    integer,
    parse_json,
)
from fastpath.api.views import plan_view
from fastpath.core.states import ACTIVE_PLAN, JobState, PlanState, parse_states
from fastpath.errors import Conflict, Invalid, TooLarge
from fastpath.plan import schema
from fastpath.plan.split import split
from fastpath.results.backend import masked
from fastpath.store.files import DIGEST, Pending, Storage
from fastpath.store.queries import blobs, inventory, plans

FILE_PART = re.compile(r"^swprofiles\[(\d{1,4})\]\.(" + "|".join(schema.PATH_FIELDS) + ")$")
SOURCE = "plan"


class Plans:
    def __init__(self, clock, storage: Storage, max_upload: int, queues: QueueCache,
                 resultstore: str | None = None,
                 max_queued_jobs: int | None = plans.MAX_QUEUED_JOBS) -> None:
        self.clock, self.storage, self.max_upload = clock, storage, max_upload
        self.max_queued_jobs = max_queued_jobs
        self.queues = queues
        self.resultstore = masked(resultstore) if resultstore else None

    def _view(self, plan, **kw) -> dict:
        return plan_view(plan, Queues(self.queues, self.clock()), **kw)

    @needs("exec")
    def on_post(self, req, resp) -> None:
        key = idempotency_key(req)
        if (done := plans.find_request(req.context.user, key)) is not None:
            resp.media = {"status": "success", "plan": self._view(plans.get_plan(done.id))}
            return  # a retry of a request that was done; the body is not read
        if req.content_length and req.content_length > self.max_upload:
            raise TooLarge(f"upload of {req.content_length} bytes is larger than the limit of "
                           f"{self.max_upload} bytes")
        if req.content_length:  # before anything is read: falcon wraps this input lazily
            req.env["wsgi.input"] = req.stream = WholeBody(req.env["wsgi.input"], req.content_length)
        received: list[Pending] = []
        try:
            self._submit(req, resp, key, received)
        finally:  # committed ones are gone from tmp; anything left is a rejected request's
            self.storage.discard(received)

    def _submit(self, req, resp, key: str | None, received: list[Pending]) -> None:
        if (req.content_type or "").startswith("multipart/form-data"):
            if req.content_length is None:  # falcon's multipart reader needs the length
                raise Invalid("Content-Length: required for a multipart upload; a chunked "
                              "body is not accepted")
            doc, options, uploads = self._multipart(req, received)
            dry_run = False
        else:
            request = body(req, {"plan", "priority", "publish", "dry_run"}, ("plan",))
            doc, options, uploads = request["plan"], request, {}
            dry_run = _boolean(request.get("dry_run", False), "dry_run")
        priority = integer(options.get("priority", 5), "priority", 0, 10)
        publish = _boolean(options.get("publish", True), "publish")
        plan = schema.validate(doc, source=SOURCE)
        cls = inventory.get_class(plan["sut"]["sutclass"])
        if not cls.enabled:
            raise Conflict(f"SUT class {cls.name!r} is disabled: it is no longer configured")
        if cls.params.get("boot") == "none":
            schema.check_bootless(plan, source=SOURCE)
        if dry_run:  # the files are not sent yet: their fields still name the client's paths
            resp.media = {"status": "success", "dry_run": True, "sutclass": cls.name,
                          "jobs": len(split(plan)), "files": len(schema.path_fields(plan))}
            return
        plan = self._attach(plan, uploads, req.context.user)
        jobs = [(j.swprofile, j.session) for j in split(plan)]
        plans.check_queued(req.context.user, len(jobs), self.max_queued_jobs)  # before any blob
        for pending in received:  # blobs only now, each before the plan that refers to it
            self.storage.commit(pending)
        created = plans.create_plan(req.context.user, cls, plan, jobs, priority, publish,
                                    self.clock(), key, max_queued=self.max_queued_jobs)
        # whoever sent a file holds it: the same file is not sent again (POST /blobs/missing)
        blobs.own(req.context.user, [p.blob.digest for p in received], self.clock())
        resp.status = falcon.HTTP_201
        resp.media = {"status": "success", "plan": self._view(plans.get_plan(created.id))}

    def _multipart(self, req, received: list[Pending]) -> tuple[dict, dict, dict[str, str]]:
        doc, options, uploads = None, {}, {}
        budget = self.max_upload
        for part in req.get_media():
            name = part.name or ""
            if name in ("plan", "priority", "publish"):
                text = part.stream.read(MAX_JSON + 1)
                if len(text) > MAX_JSON:
                    raise TooLarge(f"form field {name!r} is larger than {MAX_JSON} bytes")
                if name == "plan":
                    doc = parse_json(text, "plan")
                    schema.validate(doc, source=SOURCE)  # refuse a bad plan before its files
                else:
                    options[name] = text.decode(errors="replace").strip()
            elif FILE_PART.match(name):
                if name in uploads:
                    raise Invalid(f"file part {name!r} is given twice")
                pending = self.storage.receive(part.stream.read, budget)
                received.append(pending)
                budget -= pending.blob.size
                uploads[name] = pending.blob.digest
            else:
                raise Invalid(f"unexpected form part {name[:80]!r}: expected plan, priority, "
                              "publish, or a file named by its field, e.g. swprofiles[0].kernel")
        if doc is None:
            raise Invalid("plan: required form part is missing")
        if isinstance(req.stream, WholeBody):
            req.stream.drain()  # the epilogue, if any: a body cut short is refused
        return doc, options, uploads

    def _attach(self, plan: dict, uploads: dict[str, str], user) -> dict:
        """Point every path field at its upload's digest; a field that names a digest must be
        a blob its user has sent."""
        wanted = dict(schema.path_fields(plan))
        for field in uploads:
            if field not in wanted:
                raise Invalid(f"{field}: an upload for a field the plan does not set")
        named = {f: v for f, v in wanted.items() if f not in uploads}
        held = held_by(self.storage, user, [v for v in named.values() if DIGEST.match(v)])
        for field, value in named.items():
            if DIGEST.match(value) and value not in held:
                raise Invalid(f"{SOURCE}: {field}: blob {value} is not on the scheduler, or was "
                              f"not uploaded by you; send it first (PUT /blobs/{value})")
            if value not in held:
                raise Invalid(f"{SOURCE}: {field}: refers to a file that was not uploaded; "
                              "submit the plan with fastpath sched plan-exec, which uploads "
                              "local files (the server never reads its own paths)")
        for field, digest in uploads.items():
            index, key = FILE_PART.match(field).groups()  # type: ignore[union-attr]  # matched on upload
            plan["swprofiles"][int(index)][key] = digest
        return plan

    @needs("query")
    def on_get(self, req, resp) -> None:
        states = state_filter(req, PlanState, ACTIVE_PLAN, parse_states)
        found = plans.list_plans(states, owner_filter(req))
        counts = plans.job_counts([p.id for p in found])
        queues = Queues(self.queues, self.clock()).prepare(
            p.sutclass for p in found
            if p.state in ACTIVE_PLAN and counts[p.id][JobState.QUEUED])
        resp.media = {"status": "success",
                      "plans": [plan_view(p, queues, counts.get(p.id)) for p in found]}

    @needs("query")
    def on_get_item(self, req, resp, id: int) -> None:
        plan = plans.get_plan(id)
        view = self._view(plan, jobs=plans.plan_jobs(id))
        view["resultstore"] = self.resultstore if plan.publish else None
        resp.media = {"status": "success", "plan": view}

    @needs("exec")
    def on_patch_item(self, req, resp, id: int) -> None:
        doc = body(req, {"priority"}, ("priority",))
        priority = integer(doc["priority"], "priority", 0, 10)
        plan = plans.get_plan(id)
        ensure_owner(req, plan.user_id, f"plan {id}")
        plan = plans.set_plan_priority(plan, priority, req.context.user.name, self.clock())
        resp.media = {"status": "success", "plan": self._view(plan)}

    @needs("exec")
    def on_post_cancel(self, req, resp, id: int) -> None:
        plan = plans.get_plan(id)
        ensure_owner(req, plan.user_id, f"plan {id}")
        plan = plans.cancel_plan(plan, req.context.user.name, self.clock())
        resp.media = {"status": "success", "plan": self._view(plan, jobs=plans.plan_jobs(id))}


def _boolean(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Invalid(f"{name}: expected true or false, got {value!r}")

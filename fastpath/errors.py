"""Errors, grouped by what the caller should do about them.

User errors carry what went wrong in words a person can act on; the API maps
each class to one HTTP status (`fastpath.api.errors`) and the CLI maps
them to one exit status (`fastpath.cli.output.ExitStatus`). Loop outcomes tell
the controller whether to retry a step later or give up on it: a
`TemporaryError` (an SSH failure, a boot failure, an unreachable resultstore)
and any exception that nobody expected are retried with a backoff
(`fastpath.core.backoff`) and count against the record's attempts; a
`PermanentError` (a fault of the plan) ends the record at once.
"""

from __future__ import annotations


class FastpathError(Exception):
    """Something went wrong."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)


# --- user errors: the request or the input is wrong -------------------------


class UserError(FastpathError):
    """The request is invalid."""


class Invalid(UserError):
    """The input is invalid."""


class Unauthorized(UserError):
    """A valid bearer token is required."""


class Forbidden(UserError):
    """Not allowed."""


class NotFound(UserError):
    """Not found."""


class Conflict(UserError):
    """The record is not in a state that allows this."""


class TooLarge(UserError):
    """The request is too large."""


class Unavailable(UserError):
    """The service cannot be reached."""


class InputError(Invalid):
    """An input document is invalid at a named place.

    `source` names the document (a file or an API body) and `path` the place in
    it, for example ``swprofiles[1].kernel``, so that the message points at
    exactly what to fix.
    """

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source, self.path, self.problem = source, path, problem
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {problem}")


# --- loop outcomes: what the controller does with a step that failed --------


class TemporaryError(FastpathError):
    """The step failed for now; try again after `delay` seconds."""

    def __init__(self, message: str | None = None, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(FastpathError):
    """The step can never succeed; stop trying."""


class PlanFault(PermanentError):
    """The plan cannot run as written; retrying would not help."""


class BootFailure(TemporaryError):
    """The SUT did not boot as asked: the job is tried again, on another SUT if there is one."""


class LostLeadership(TemporaryError):
    """This controller no longer holds the lead; another one may be acting."""


class StaleWrite(LostLeadership):
    """The controller stalled inside a fenced write, so its time stamps would be old at commit.

    Nothing was committed; the write is done again, stamped afresh. The lead may
    still hold, so the controller does not step down for this.
    """

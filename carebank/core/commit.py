"""The one place a request's database work is committed.

Services add and flush, and never commit. Each interface ends its work here once: the web pages
through `web.saving` (a `with` block around the service call), the JSON API through its
blueprint (every route is wrapped in `committed`), the CLI through `commits`. On success the
work is committed; a refused request (a DomainError) is rolled back, so nothing of it is
saved — except the one refusal whose writes must stand: a wrong PIN's counted try
(`DomainError.keeps_changes`, set by checkins.WrongPin), which is committed so that five
wrong tries lock the card even though each check-in fails.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps

from carebank.core.errors import DomainError
from carebank.core.extensions import db


def finish(error: DomainError | None = None) -> None:
    """Commit the work, or roll back the work of a refused request (keeping what it keeps)."""
    if error is None or error.keeps_changes:
        db.session.commit()
    else:
        db.session.rollback()


@dataclass
class Outcome:
    """What became of the work in a `committing` block: saved, or refused with `error`."""

    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def committing(on_refusal: Callable[[DomainError], None] | None = None) -> Iterator[Outcome]:
    """Run the block's work and commit it; a DomainError is settled by `finish`, handed to
    `on_refusal` (to show it) and kept on the outcome instead of propagating."""
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        finish(error)
        outcome.error = error
        if on_refusal is not None:
            on_refusal(error)
        return
    except BaseException:
        db.session.rollback()
        raise
    finish()


def committed(view: Callable) -> Callable:
    """Commit after `view` returned; a DomainError is settled and passed on to be rendered: the
    API's error body, a command's error message, or the error page of a page action whose every
    refusal is shown there."""

    @wraps(view)
    def run(*args, **kwargs):
        try:
            answer = view(*args, **kwargs)
        except DomainError as error:
            finish(error)
            raise
        except BaseException:
            db.session.rollback()
            raise
        finish()
        return answer

    return run

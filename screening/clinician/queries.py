"""The dashboard's questions to the database: filters, sorting, pages, counts.

Everything is done in SQL on stored, indexed flags (never by loading rows into Python), so a
page of 50 costs the same at 100,000 submissions as at 100.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true

from ..core.flags import LIKELY_FIT
from ..extensions import db
from ..models import Submission

PER_PAGE = 50
MAX_SEARCH_WORDS = 5

#: Sortable columns (the only names ``sort=`` accepts) and what each orders by.
SORT_COLUMNS: dict[str, tuple[Any, ...]] = {
    "reference": (Submission.reference,),
    "name": (Submission.last_name, Submission.first_name),
    "submitted": (Submission.submitted_at,),
    "phq9": (Submission.phq9_total,),
    "item9": (Submission.phq9_item9,),
    "gad7": (Submission.gad7_total,),
    "trials": (Submission.adequate_failed_trials,),
    "fit": (Submission.fit,),
    "medical": (Submission.needs_medical_review,),
    "status": (Submission.review_status,),
}
#: The default order: urgent-and-unacknowledged first, then newest (ix_submission_queue).
QUEUE = "queue"


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters, already checked; ``None`` means "any"."""

    fit: str | None = None
    urgent: str | None = None  # "awaiting" (not yet acknowledged), "yes" or "no"
    status: str | None = None
    medical: str | None = None  # "yes" or "no"
    since: dt.date | None = None
    until: dt.date | None = None
    search: str | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments, for links that keep them."""
        return {
            key: value.isoformat() if isinstance(value, dt.date) else value
            for key, value in asdict(self).items()
            if value
        }

    def audit_details(self) -> dict[str, str | bool]:
        """The filters for the audit trail: the search words may be a name, so only its use."""
        details: dict[str, str | bool] = {
            k: v for k, v in self.query_args().items() if k != "search"
        }
        if self.search:
            details["search"] = True
        return details


@dataclass(frozen=True)
class Page:
    """One page of the dashboard table."""

    rows: Sequence[Submission]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class Counts:
    """The numbers at the top of the dashboard."""

    new: int
    urgent_awaiting: int
    likely_fit_new: int


def _like_escaped(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``filters``."""
    where: list[ColumnElement[bool]] = []
    if filters.fit:
        where.append(Submission.fit == filters.fit)
    if filters.urgent == "awaiting":
        where.append(Submission.awaiting_ack == true())
    elif filters.urgent in ("yes", "no"):
        where.append(Submission.urgent == (filters.urgent == "yes"))
    if filters.status:
        where.append(Submission.review_status == filters.status)
    if filters.medical in ("yes", "no"):
        where.append(Submission.needs_medical_review == (filters.medical == "yes"))
    # Dates are whole days in UTC, both ends included.
    if filters.since:
        start = dt.datetime.combine(filters.since, dt.time(), dt.UTC)
        where.append(Submission.submitted_at >= start)
    if filters.until:
        end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        where.append(Submission.submitted_at < end)
    if filters.search:
        # Every word must appear: "alex testperson" finds Alex Testperson. As a subquery, the
        # words are matched in one pass over the table; inline, SQLite would walk the queue
        # index and fetch every row in turn (5x slower at 100,000 when few rows match).
        words = filters.search.lower().split()[:MAX_SEARCH_WORDS]
        matching = select(Submission.id).where(
            *(Submission.search_text.like(_like_escaped(word), escape="\\") for word in words)
        )
        where.append(Submission.id.in_(matching))
    return where


def _ordered(stmt: Select[Any], sort: str, descending: bool) -> Select[Any]:
    if sort not in SORT_COLUMNS:
        return stmt.order_by(
            Submission.awaiting_ack.desc(), Submission.submitted_at.desc(), Submission.id.desc()
        )
    columns = [c.desc() if descending else c.asc() for c in SORT_COLUMNS[sort]]
    # The id breaks ties, so that a row never shows on two pages or on none.
    tie = Submission.id.desc() if descending else Submission.id.asc()
    return stmt.order_by(*columns, tie)


def dashboard_page(filters: Filters, sort: str, descending: bool, number: int) -> Page:
    """The page ``number`` (from 1; past the end gives the last page) of matching rows."""
    where = conditions(filters)
    total = db.session.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
    last = max(1, math.ceil(total / PER_PAGE))
    number = min(max(1, number), last)
    # Find the page's ids first, then load those 50 rows: the sort handles narrow tuples
    # (often straight from an index) instead of whole rows with their JSON answers.
    ids = db.session.scalars(
        _ordered(select(Submission.id).where(*where), sort, descending)
        .limit(PER_PAGE)
        .offset((number - 1) * PER_PAGE)
    ).all()
    loaded = {s.id: s for s in db.session.scalars(select(Submission).where(Submission.id.in_(ids)))}
    return Page(rows=[loaded[i] for i in ids], total=total, number=number, per_page=PER_PAGE)


def queue_counts() -> Counts:
    """New, urgent awaiting acknowledgement, and likely fits not yet reviewed: one round trip.

    Three small indexed counts rather than one scan of every row with CASE expressions.
    """

    def count(*where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(Submission).where(*where).scalar_subquery()

    new, urgent, likely = db.session.execute(
        select(
            count(Submission.review_status == "new"),
            count(Submission.awaiting_ack == true()),
            count(and_(Submission.fit == LIKELY_FIT, Submission.review_status == "new")),
        )
    ).one()
    return Counts(new=new, urgent_awaiting=urgent, likely_fit_new=likely)

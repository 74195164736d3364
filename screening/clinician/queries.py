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

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    column,
    func,
    select,
    table,
    true,
)

from ..core import references
from ..core.flags import LIKELY_FIT
from ..extensions import db
from ..models import SEARCH_TABLE, TALLY_TABLE, Submission
from ..web import clinic_time
from .listing import current_listing

PER_PAGE = 50
MAX_SEARCH_WORDS = 5
#: Trigram indexes find substrings of three characters or more; shorter words are scanned for.
MIN_INDEXED_WORD = 3
#: SQLite's full-text index of ``search_text``: its rowid is the submission's id.
SEARCH_INDEX = table(SEARCH_TABLE, column("rowid", Integer), column(SEARCH_TABLE))
#: How many submissions there are, kept by triggers in the same transaction as each change.
TALLY = table(TALLY_TABLE, column("submissions", Integer))

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

    rows: Sequence[Row[Any]]  # Listing.selected
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


def submission_by_reference(typed: str) -> Submission | None:
    """The submission whose reference is ``typed`` (in any case, spaces around), if any.

    Text that cannot be a reference is not looked up at all: among it, NUL and other control
    characters, which PostgreSQL refuses even in a comparison.
    """
    reference = references.normalise(typed)
    if not references.is_reference(reference):
        return None
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


def _like_escaped(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _contains(word: str) -> ColumnElement[bool]:
    return Submission.search_text.like(_like_escaped(word), escape="\\")


def _phrase(word: str) -> str:
    """``word`` as an FTS5 string: matched as a substring by the trigram tokenizer."""
    return '"' + word.replace('"', '""') + '"'


def search_condition(search: str, dialect: str) -> ColumnElement[bool]:
    """Rows whose search text contains every word of ``search``, in any case.

    Words of three letters or more are looked up in a trigram index. PostgreSQL's
    (``pg_trgm``) serves ``LIKE`` as it is. SQLite's is the FTS5 table ``SEARCH_INDEX``, asked
    for each word as a phrase. Shorter words are matched by ``LIKE``: among the rows found,
    or, with no longer word, in one pass over the narrow ``ix_submission_search``.
    """
    words = search.lower().split()[:MAX_SEARCH_WORDS]
    if dialect != "sqlite":
        return and_(*(_contains(word) for word in words))
    indexed = [word for word in words if len(word) >= MIN_INDEXED_WORD]
    short = [_contains(word) for word in words if len(word) < MIN_INDEXED_WORD]
    if not indexed:
        # As a subquery, the words are matched in one pass over the index; inline, SQLite
        # would walk the queue index and fetch every row in turn.
        return Submission.id.in_(select(Submission.id).where(*short))
    found = select(SEARCH_INDEX.c.rowid).where(
        SEARCH_INDEX.c[SEARCH_TABLE].match(" AND ".join(_phrase(word) for word in indexed))
    )
    return and_(Submission.id.in_(found), *short)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


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
    # Dates are whole days in the clinic's time zone, both ends included.
    if filters.since:
        where.append(Submission.submitted_at >= clinic_time.day_start(filters.since))
    if filters.until:
        where.append(Submission.submitted_at < clinic_time.day_end(filters.until))
    if filters.search:
        # Every word must appear: "alex testperson" finds Alex Testperson.
        where.append(search_condition(filters.search, _dialect()))
    return where


def _ordered(stmt: Select[Any], sort: str, descending: bool) -> Select[Any]:
    found = current_listing().sorts.get(sort)
    if found is None:
        return stmt.order_by(
            Submission.awaiting_ack.desc(), Submission.submitted_at.desc(), Submission.id.desc()
        )
    stmt = current_listing().joined(stmt, found.instruments, found.patient)
    columns = [c.desc() if descending else c.asc() for c in found.columns]
    # The id breaks ties, so that a row never shows on two pages or on none.
    tie = Submission.id.desc() if descending else Submission.id.asc()
    return stmt.order_by(*columns, tie)


def dashboard_page(filters: Filters, sort: str, descending: bool, number: int) -> Page:
    """The page ``number`` (from 1; past the end gives the last page) of matching rows."""
    where = conditions(filters)
    number = max(1, number)
    if filters.search and _dialect() == "sqlite":
        # SQLite finds a search's rows as a list of ids (from the FTS table, or one pass over
        # ix_submission_search), then reads each: count them in the same pass as the page.
        # Not on PostgreSQL: its planner picks per query, a GIN lookup for rare words or the
        # queue order until a page is full for common ones; a total in the page query would
        # make it read every matching row.
        found = db.session.execute(
            _ordered(select(Submission.id, func.count().over()).where(*where), sort, descending)
            .limit(PER_PAGE)
            .offset((number - 1) * PER_PAGE)
        ).all()
        if found or number == 1:
            total = found[0][1] if found else 0
            return Page(rows=_listed([id_ for id_, _ in found]), total=total, number=number,
                        per_page=PER_PAGE)
        # Past the end: count, then show the last page.
    total = _count(where)
    number = min(number, max(1, math.ceil(total / PER_PAGE)))
    # Find the page's ids first, then read those rows: the sort handles narrow tuples
    # (often straight from an index) instead of whole rows.
    ids = db.session.scalars(
        _ordered(select(Submission.id).where(*where), sort, descending)
        .limit(PER_PAGE)
        .offset((number - 1) * PER_PAGE)
    ).all()
    return Page(rows=_listed(ids), total=total, number=number, per_page=PER_PAGE)


def _count(where: list[ColumnElement[bool]]) -> int:
    if not where:
        # Every submission: read the tally rather than count 100,000 index entries per page.
        tally = db.session.scalar(select(TALLY.c.submissions))
        if tally is not None:
            return int(tally)
    return db.session.scalar(select(func.count()).select_from(Submission).where(*where)) or 0


def _listed(ids: Sequence[int]) -> list[Row[Any]]:
    """The table's rows of the submissions ``ids`` that still exist, in that order."""
    if not ids:
        return []
    rows = db.session.execute(current_listing().rows(Submission.id.in_(ids)))
    by_id = {row.id: row for row in rows}
    # On PostgreSQL each query sees what was committed before it: a submission erased after
    # the ids were read has no row any more (the page is then one short, not an error).
    return [by_id[id_] for id_ in ids if id_ in by_id]


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

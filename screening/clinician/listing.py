"""The dashboard table: its columns and the orders it can be sorted in, made from the intake's
instruments (a total and band for each, and the answer to an alert item such as PHQ-9 item 9).

Each instrument's intake response is joined under its own alias, so a page of 50 reads its
scores in the same query as the rest of its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from ..core.instruments import Instrument
from ..models import Patient, QuestionnaireResponse, Submission
from ..questionnaires import intake_instruments

EXTENSION_KEY = "screening.dashboard_listing"


@dataclass(frozen=True)
class Column:
    """A column of the table: the ``sort=`` key that orders by it, its heading, its class."""

    key: str
    label: str
    css: str = ""


@dataclass(frozen=True)
class Sort:
    """What a sort key orders by, and which instruments' responses that needs joined."""

    columns: tuple[Any, ...]
    instruments: tuple[str, ...] = ()
    patient: bool = False


class Listing:
    """The table for one app's intake instruments."""

    def __init__(self, instruments: tuple[Instrument, ...]) -> None:
        self.instruments = instruments
        self.responses: dict[str, AliasedClass[QuestionnaireResponse]] = {
            i.key: aliased(QuestionnaireResponse, name=f"response_{i.key}") for i in instruments
        }
        score_columns: list[Any] = []
        self.sorts: dict[str, Sort] = {
            "reference": Sort((Submission.reference,)),
            "name": Sort((Patient.last_name, Patient.first_name), patient=True),
            "submitted": Sort((Submission.submitted_at,)),
        }
        self.columns = [Column("reference", "Reference"), Column("name", "Name"),
                        Column("submitted", "Submitted")]
        for instrument in instruments:
            response = self.responses[instrument.key]
            score_columns += [response.total.label(f"{instrument.key}_total"),
                              response.band.label(f"{instrument.key}_band")]
            self.sorts[instrument.key] = Sort((response.total,), (instrument.key,))
            self.columns.append(Column(instrument.key, instrument.name, "num"))
            if instrument.alert:
                key = self.alert_key(instrument)
                value = response.answers[instrument.alert.item_key].as_integer()
                score_columns.append(value.label(key))
                self.sorts[key] = Sort((value,), (instrument.key,))
                item = instrument.item(instrument.alert.item_key)
                self.columns.append(Column(key, f"Item {item.number}", "num"))
        self.sorts |= {
            "trials": Sort((Submission.adequate_failed_trials,)),
            "fit": Sort((Submission.fit,)),
            "medical": Sort((Submission.needs_medical_review,)),
            "status": Sort((Submission.review_status,)),
        }
        self.columns += [Column("trials", "Adequate failed trials", "num"), Column("fit", "Fit"),
                         Column("medical", "Medical review"), Column("status", "Status")]
        #: What a row of the table holds: plain values, without answers or reasons.
        self.selected = (
            Submission.id, Submission.reference, Patient.first_name, Patient.last_name,
            Submission.submitted_at, Submission.adequate_failed_trials, Submission.fit,
            Submission.urgent, Submission.awaiting_ack, Submission.alert_status,
            Submission.needs_medical_review, Submission.review_status, Submission.language,
            *score_columns,
        )

    @staticmethod
    def alert_key(instrument: Instrument) -> str:
        """The sort key and row name of an instrument's alert item, e.g. ``phq9_item9``."""
        assert instrument.alert is not None
        return f"{instrument.key}_item{instrument.item(instrument.alert.item_key).number}"

    def joined(self, statement: Select[Any], instruments: tuple[str, ...] = (),
               patient: bool = False) -> Select[Any]:
        """``statement`` (from ``submission``) with the patient and the named instruments'
        intake responses joined."""
        if patient:
            statement = statement.join(Patient, Patient.id == Submission.patient_id)
        for key in instruments:
            statement = statement.outerjoin(self.responses[key], self._on(key))
        return statement

    def _on(self, key: str) -> ColumnElement[bool]:
        response = self.responses[key]
        return and_(response.submission_id == Submission.id, response.instrument == key)

    def rows(self, where: ColumnElement[bool]) -> Select[Any]:
        """The table's row for each submission that ``where`` selects."""
        statement = select(*self.selected).select_from(Submission)
        return self.joined(statement, tuple(self.responses), patient=True).where(where)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Listing(intake_instruments(app))


def current_listing() -> Listing:
    found: Listing = current_app.extensions[EXTENSION_KEY]
    return found

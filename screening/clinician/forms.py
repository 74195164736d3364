"""Clinician forms: the dashboard's query-string filters, and the review actions (with CSRF)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Form,
    HiddenField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..core import references
from ..core.flags import FIT_LABELS
from ..web.validators import NoControlCharacters
from .erasure import MAX_REASON
from .listing import current_listing
from .queries import QUEUE, Filters
from .review import CONTROL_CHARACTERS_MESSAGE, MAX_NOTE_LENGTH, STATUS_LABELS, STATUSES

MAX_SEARCH = 100

#: Notes and other free text: tabs and line breaks are fine.
no_control_characters = NoControlCharacters(CONTROL_CHARACTERS_MESSAGE, multiline=True)
# A search is one line: no control characters at all, not even tabs or line breaks.
SEARCH_TEXT = NoControlCharacters(CONTROL_CHARACTERS_MESSAGE)


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def any_or(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return choices(("", "Any"), *pairs)


def status_choices(statuses: tuple[str, ...]) -> list[SelectChoice]:
    return choices(*((s, STATUS_LABELS[s]) for s in statuses))


YES_NO = (("yes", "Yes"), ("no", "No"))


class FilterForm(Form):
    """The dashboard's filters, read from the query string so a view can be bookmarked.

    A plain WTForms form (no CSRF): it only reads. Invalid values are reported and ignored.
    """

    search = SearchField(
        "Search name, email or reference",
        validators=[Optional(), Length(max=MAX_SEARCH), SEARCH_TEXT],
    )
    fit = SelectField("Fit", choices=any_or(*FIT_LABELS.items()), default="")
    urgent = SelectField(
        "Urgent", choices=any_or(("awaiting", "Awaiting acknowledgement"), *YES_NO), default=""
    )
    status = SelectField(
        "Status", choices=any_or(*((s, STATUS_LABELS[s]) for s in STATUSES)), default=""
    )
    medical = SelectField("Needs medical review", choices=any_or(*YES_NO), default="")
    since = DateField("Submitted from", validators=[Optional()])
    until = DateField("Submitted to", validators=[Optional()])
    sort = SelectField("Sort by", choices=[], default=QUEUE)  # the table's columns: __init__
    order = SelectField(
        "Order", choices=choices(("asc", "Ascending"), ("desc", "Descending")), default="asc"
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sort.choices = choices(
            (QUEUE, "Urgent first, then newest"),
            *((key, key) for key in current_listing().sorts),
        )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)
        if self.since.data and self.until.data and self.since.data > self.until.data:
            self.until.errors = [*self.until.errors, "The end date is before the start date."]
            valid = False
        return valid

    def _good(self, name: str) -> str | None:
        field = self[name]
        return None if field.errors else (field.data or None)

    def filters(self) -> Filters:
        """The filters that passed validation; a field with an error counts as "any"."""
        dates_ok = not (self.since.errors or self.until.errors)
        return Filters(
            fit=self._good("fit"),
            urgent=self._good("urgent"),
            status=self._good("status"),
            medical=self._good("medical"),
            since=self.since.data if dates_ok else None,
            until=self.until.data if dates_ok else None,
            search=(self._good("search") or "").strip() or None,
        )

    def sort_key(self) -> str:
        return self.sort.data if not self.sort.errors else QUEUE

    def descending(self) -> bool:
        return not self.order.errors and self.order.data == "desc"

    def page_number(self) -> int:
        return self.page.data if self.page.data and not self.page.errors else 1

    def error_messages(self) -> list[str]:
        """One plain line per invalid filter, naming it."""
        return [
            f"{self[name].label.text}: {message} This filter was ignored."
            for name, messages in self.errors.items()
            for message in messages
        ]


class StatusForm(FlaskForm):
    """Move a submission to another review status."""

    expected = HiddenField(validators=[InputRequired(), Length(max=20)])
    status = SelectField("New status", choices=status_choices(STATUSES))


class NoteForm(FlaskForm):
    """Append a note."""

    body = TextAreaField(
        "Add a note",
        validators=[DataRequired("Write the note before saving it."),
                    Length(max=MAX_NOTE_LENGTH), no_control_characters],
    )


class AcknowledgeForm(FlaskForm):
    """Acknowledge an urgent submission, saying what was done."""

    note = TextAreaField(
        "Action taken",
        validators=[DataRequired("Describe the action taken before acknowledging."),
                    Length(max=MAX_NOTE_LENGTH), no_control_characters],
    )


class EraseForm(FlaskForm):
    """Erase a submission: the reason, and its reference typed again."""

    reason = TextAreaField(
        "Reason for erasing",
        validators=[
            DataRequired("Give the reason for erasing this submission."),
            Length(max=MAX_REASON, message=f"Use {MAX_REASON} characters or fewer."),
            no_control_characters,
        ],
    )
    confirm = StringField(
        "Type the reference again to confirm",
        validators=[
            DataRequired("Type the submission's reference to confirm."),
            Length(max=references.MAX_TYPED_LENGTH),
        ],
    )

    def __init__(self, reference: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reference = reference

    def validate_confirm(self, field: StringField) -> None:
        if references.normalise(field.data or "") != self.reference:
            raise ValidationError("That is not this submission's reference: nothing was erased.")


class LinkForm(FlaskForm):
    """A decision about two patient records that look alike."""

    decision = SelectField(
        "Are these the same person?",
        choices=choices(("same", "Yes, the same person"), ("different", "No, different people")),
        validators=[InputRequired("Choose whether these records are the same person.")],
    )


class UndoForm(FlaskForm):
    """Take a decision back: only the CSRF token."""

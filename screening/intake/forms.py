"""The intake's forms, one per step, generated from the instrument definitions."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from ..core import health_screen, options, treatment_history
from ..core.dates import ADULT_AGE, OLDEST_PLAUSIBLE_AGE, age_on
from ..core.instruments import Instrument, Item, Required
from ..core.scoring import required_items
from ..web.i18n import gettext
from ..web.i18n import lazy_gettext as _l
from ..web.validators import NoControlCharacters

PHONE = re.compile(r"\+?[0-9 ().-]+")
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
WHOLE_NUMBER = re.compile(r"[0-9]{1,8}")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


#: Single-line answers: no control characters, line breaks or direction overrides.
no_control_characters = NoControlCharacters(_l("Remove the unusual characters from this answer."))
#: Free text: the same, but line breaks and tabs are fine.
no_control_characters_in_text = NoControlCharacters(
    _l("Remove the unusual characters from this answer."), multiline=True
)


def required_text(message: str) -> DataRequired:
    """Required after stripping: an answer of only spaces is no answer."""
    return DataRequired(message=message)


def required_choice(message: str) -> InputRequired:
    return InputRequired(message=message)


class ChoiceField(RadioField):
    """A radio group whose errors say plainly what to do, even for tampered values."""

    def __init__(self, *args: Any, missing: str, **kwargs: Any) -> None:
        self.missing_message = missing
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and valuelist[0] == "":
            self.data = None  # an empty value is no answer (InputRequired still sees it)
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(self.missing_message) from exc

    def pre_validate(self, form: Form) -> None:
        if self.data is not None and self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.missing_message)


#: The orders in which a date of birth may be typed (the ``DATE_ORDER`` setting).
DATE_ORDERS = {"mdy": ("month", "day", "year"), "dmy": ("day", "month", "year")}
#: The date every example is written from: 27 March 1985 ("3 27 1985" month first).
EXAMPLE_DATE = dt.date(1985, 3, 27)
YEAR_DIGITS = 4


def date_order() -> tuple[str, ...]:
    """The parts of a date of birth in the order this clinic asks them."""
    return DATE_ORDERS[current_app.config["DATE_ORDER"]]


def date_example() -> str:
    """The example date as typed in this clinic's order, e.g. ``3 27 1985``."""
    values = {"day": EXAMPLE_DATE.day, "month": EXAMPLE_DATE.month, "year": EXAMPLE_DATE.year}
    return " ".join(str(values[part]) for part in date_order())


class DateOfBirthField(Field):
    """Month, day and year (or day, month, year: ``DATE_ORDER``) as three inputs, easier than
    a date picker for many people. Each input is named for its part, so what is stored never
    depends on the order they are shown in."""

    PARTS = ("day", "month", "year")

    @property
    def order(self) -> tuple[str, ...]:
        return date_order()

    @property
    def example(self) -> str:
        return date_example()

    def process(self, formdata, data=None, extra_filters=None):  # type: ignore[no-untyped-def, override]
        self.process_errors = []
        self.raw_parts = {part: "" for part in self.PARTS}
        self.data = None
        if formdata is not None:
            for part in self.PARTS:
                self.raw_parts[part] = (formdata.get(f"{self.name}-{part}") or "").strip()[:8]
            self.raw_data = list(self.raw_parts.values())
        elif isinstance(data, str):
            data = dt.date.fromisoformat(data)
        if formdata is None and isinstance(data, dt.date):
            self.data = data
            self.raw_parts = {
                "day": str(data.day), "month": str(data.month), "year": str(data.year)
            }
            return
        parts = self.raw_parts
        if not any(parts.values()):
            return
        if not all(WHOLE_NUMBER.fullmatch(p) for p in parts.values()):
            self.process_errors.append(
                _l("Enter your date of birth as numbers, for example %(example)s.",
                   example=date_example())
            )
            return
        if len(parts["year"]) != YEAR_DIGITS:
            self.process_errors.append(
                _l("Enter the year with all 4 digits, for example %(year)s.",
                   year=EXAMPLE_DATE.year)
            )
            return
        try:
            self.data = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.process_errors.append(
                _l("Enter a real date, for example %(example)s.", example=date_example())
            )

    def _value(self) -> str:
        return ""


class ConsentForm(FlaskForm):
    consent = BooleanField(
        _l(
            "I agree that the clinic may store my answers and that its clinicians may read them"
            " to decide whether to contact me about a consultation."
        ),
        # DataRequired, not InputRequired: a tampered "consent=false" is sent but is no consent.
        validators=[DataRequired(message=_l("Tick the box to agree, so that we can continue."))],
    )


class AboutForm(FlaskForm):
    first_name = StringField(
        _l("First name"),
        filters=[strip],
        validators=[
            required_text(_l("Enter your first name.")),
            Length(max=100, message=_l("Your first name must be 100 characters or fewer.")),
            no_control_characters,
        ],
    )
    last_name = StringField(
        _l("Last name"),
        filters=[strip],
        validators=[
            required_text(_l("Enter your last name.")),
            Length(max=100, message=_l("Your last name must be 100 characters or fewer.")),
            no_control_characters,
        ],
    )
    date_of_birth = DateOfBirthField(_l("Date of birth"))
    email = StringField(
        _l("Email address"),
        filters=[strip],
        validators=[
            required_text(_l("Enter your email address.")),
            Length(max=254, message=_l("Your email address must be 254 characters or fewer.")),
            no_control_characters,
            Email(message=_l("Enter an email address like name@example.com.")),
        ],
    )
    phone = StringField(
        _l("Phone number"),
        filters=[strip],
        validators=[
            required_text(_l("Enter your phone number.")),
            Length(max=40, message=_l("Your phone number must be 40 characters or fewer.")),
        ],
    )
    contact_method = ChoiceField(
        _l("How would you prefer us to contact you?"),
        choices=[SelectChoice(o.code, _l(o.text)) for o in options.CONTACT_METHODS],
        missing=_l("Choose how you would prefer us to contact you."),
        validators=[required_choice(_l("Choose how you would prefer us to contact you."))],
    )

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or dt.date.today()

    def validate_date_of_birth(self, field: DateOfBirthField) -> None:
        if field.data is None:
            if not field.process_errors:
                raise ValidationError(_l("Enter your date of birth."))
            return
        if field.data >= self.today:
            raise ValidationError(_l("Your date of birth must be in the past."))
        age = age_on(field.data, self.today)
        if age > OLDEST_PLAUSIBLE_AGE:
            raise ValidationError(_l("Check the year of your date of birth."))
        if age < ADULT_AGE:
            raise ValidationError(
                _l(
                    "Thank you for your interest. This service is for adults aged 18 and over,"
                    " so we cannot take your answers here. If you need support now, please"
                    " talk to a parent, a trusted adult or your doctor, or call or text 988."
                )
            )

    def validate_phone(self, field: StringField) -> None:
        digits = re.sub(r"\D", "", field.data or "")
        if not PHONE.fullmatch(field.data or "") or not 7 <= len(digits) <= 15:
            raise ValidationError(_l("Enter a phone number, like 555 123 4567."))


class QuestionnaireForm(FlaskForm):
    """One instrument's items as radio groups; made for each instrument by
    :func:`questionnaire_form`. An item is required as its definition says: always, or
    (PHQ-9 item 10) when any scored item is above 0."""

    instrument: ClassVar[Instrument]

    def answers(self) -> dict[str, int]:
        """The valid answers given, keyed by item (``{"1": 2, …}``)."""
        found = {}
        for item in self.instrument.items:
            value = self[self.instrument.field(item)].data
            if type(value) is int:
                found[item.key] = value
        return found

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def, override]
        valid = super().validate(extra_validators)
        answers = self.answers()
        for item in required_items(self.instrument, answers):
            field = self[self.instrument.field(item)]
            if item.key not in answers and not field.errors:
                # An item required only by the other answers (PHQ-9 item 10); the ones
                # always required were checked by their InputRequired.
                field.errors.append(missing_message(item))
                valid = False
        return valid


def missing_message(item: Item) -> Any:
    """What to tell a patient who left ``item`` unanswered."""
    if item.missing:
        return _l(item.missing)
    return _l("Choose an answer for question %(n)s.", n=item.number)


@functools.cache
def questionnaire_form(instrument: Instrument) -> type[QuestionnaireForm]:
    """The form class for ``instrument``: a radio group per item, named by its field."""
    fields: dict[str, Any] = {"instrument": instrument}
    for item in instrument.items:
        fields[instrument.field(item)] = ChoiceField(
            _l(item.text),
            choices=[SelectChoice(c.value, _l(c.text)) for c in item.answers.choices],
            coerce=int,
            missing=missing_message(item),
            # Always required: an answer must be sent. Required by the other answers (PHQ-9
            # item 10): QuestionnaireForm.validate decides.
            validators=(
                [required_choice(missing_message(item))]
                if item.required is Required.ALWAYS else []
            ),
        )
    return type(f"{instrument.key.upper()}Form", (QuestionnaireForm,), fields)


YES_NO_CHOICES = [SelectChoice(o.code, _l(o.text)) for o in options.YES_NO]
RESPONSE_CHOICES = [SelectChoice(o.code, _l(o.text)) for o in treatment_history.RESPONSE_OPTIONS]


class TrialForm(Form):
    """One antidepressant row. A blank row is ignored; a started row must be finished."""

    medication = StringField(
        _l("Medication name"),
        filters=[strip],
        validators=[
            Length(max=treatment_history.MAX_MEDICATION_NAME,
                   message=_l("Use 100 characters or fewer.")),
            no_control_characters,
        ],
    )
    weeks = StringField(_l("About how many weeks did you take it?"), filters=[strip])
    as_prescribed = ChoiceField(
        _l("Did you take it as prescribed?"),
        choices=YES_NO_CHOICES,
        missing=_l("Say whether you took it as prescribed."),
    )
    response = ChoiceField(
        _l("How much did it help?"),
        choices=RESPONSE_CHOICES,
        missing=_l("Say how much it helped."),
    )

    def is_blank(self) -> bool:
        return not any(
            [self.medication.data, self.weeks.data not in (None, ""), self.as_prescribed.data,
             self.response.data]
        )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def, override]
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        if not self.medication.data:
            self.medication.errors.append(_l("Enter the name of the medication."))
        # A number when the row's input was not sent and the saved answer stands in.
        weeks = "" if self.weeks.data is None else str(self.weeks.data).strip()
        if not weeks:
            self.weeks.errors.append(_l("Enter about how many weeks you took it."))
        elif (
            not WHOLE_NUMBER.fullmatch(weeks)
            or not 0 <= int(weeks) <= treatment_history.MAX_TRIAL_WEEKS
        ):
            self.weeks.errors.append(
                _l("Enter the weeks as a whole number from 0 to 520, for example 8.")
            )
        else:
            self.weeks.data = int(weeks)  # kept as a number: "08" and " 8 " are 8
        if self.as_prescribed.data is None:
            self.as_prescribed.errors.append(_l("Say whether you took it as prescribed."))
        if self.response.data is None:
            self.response.errors.append(_l("Say how much it helped."))
        return not self.errors


class RowList(FieldList):
    """A FieldList that reads only ASCII row numbers.

    WTForms checks a row number with ``str.isdigit()``, which accepts "²", then calls
    ``int()`` on it: a tampered ``trials-²-weeks`` would otherwise be a 500.
    """

    def _extract_indices(self, prefix: str, formdata: Any) -> Iterator[int]:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if WHOLE_NUMBER.fullmatch(index):
                    yield int(index)


class TreatmentForm(FlaskForm):
    # No max_entries: FieldList would silently drop the rows beyond it. ``validate`` refuses
    # them instead; MAX_FORM_PARTS bounds how many rows a request can hold at all.
    trials = RowList(FormField(TrialForm), min_entries=treatment_history.TRIAL_ROWS_WITHOUT_JS)
    ketamine_outcome = ChoiceField(
        _l("How did the ketamine or esketamine treatment go?"),
        choices=RESPONSE_CHOICES,
        missing=_l("Say how the ketamine or esketamine treatment went."),
        # No Optional(): it would stop validation before validate_ketamine_outcome.
    )
    treatment_notes = TextAreaField(
        _l("Anything else you would like the clinician to know about treatments you have tried"
           " (optional)"),
        filters=[strip],
        validators=[
            Length(max=treatment_history.MAX_FREE_TEXT,
                   message=_l("Use 2,000 characters or fewer.")),
            no_control_characters_in_text,
        ],
    )

    def validate_ketamine_outcome(self, field: ChoiceField) -> None:
        if self["other_ketamine"].data == "yes" and field.data is None:
            raise ValidationError(_l("Say how the ketamine or esketamine treatment went."))

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def, override]
        valid = super().validate(extra_validators)
        filled = [entry for entry in self.trials if not entry.form.is_blank()]
        for entry in filled[treatment_history.MAX_TRIAL_ROWS:]:
            entry.form.medication.errors.append(
                _l("You can list up to %(max)s antidepressants. Put any others in the box for"
                   " anything else below.", max=treatment_history.MAX_TRIAL_ROWS)
            )
        self.trials.errors = [entry.errors for entry in self.trials if entry.errors]
        if self["other_ketamine"].data != "yes":
            # An outcome chosen while answering "no" describes no treatment: do not keep it.
            self.ketamine_outcome.data = None
        return valid and len(filled) <= treatment_history.MAX_TRIAL_ROWS


def _yes_no(question: str) -> ChoiceField:
    message = _l("Answer yes or no.")
    return ChoiceField(_l(question), choices=YES_NO_CHOICES, missing=message,
                       validators=[required_choice(message)])


for _treatment in treatment_history.OTHER_TREATMENTS:
    setattr(TreatmentForm, f"other_{_treatment.code}", _yes_no(_treatment.question))


class HealthForm(FlaskForm):
    pass


for _question in health_screen.SAFETY_QUESTIONS:
    setattr(HealthForm, _question.code, _yes_no(_question.question))


class SubmitForm(FlaskForm):
    """The review page's final submit: only the CSRF token."""


class ResumeForm(FlaskForm):
    date_of_birth = DateOfBirthField(_l("Date of birth"))

    def validate_date_of_birth(self, field: DateOfBirthField) -> None:
        if field.data is None and not field.process_errors:
            raise ValidationError(_l("Enter your date of birth."))


def error_links(form: Form) -> list[tuple[str, str]]:
    """Every error message with the id of the input it belongs to, in page order.

    The summary is read on its own (a screen reader lists its links), so each line must say
    which question it is about: an antidepressant row's errors name the row, and a message
    shared by several questions ("Answer yes or no.") names its question.
    """
    found = _field_errors(form)
    shared = Counter(message for _anchor, message, _question in found)
    return [
        (anchor, message if shared[message] == 1 or question is None
         else gettext("%(question)s %(error)s", question=question, error=message))
        for anchor, message, question in found
    ]


def _field_errors(form: Form, row: int | None = None) -> list[tuple[str, str, str | None]]:
    """(anchor, message, question) for each error, in page order; in a row, no question."""
    found: list[tuple[str, str, str | None]] = []
    for field in form:
        if isinstance(field, FieldList):
            for number, entry in enumerate(field, start=1):
                found += _field_errors(entry.form, row=number)
            continue
        if isinstance(field, RadioField):
            anchor = f"{field.id}-0"
        elif isinstance(field, DateOfBirthField):
            anchor = f"{field.id}-{field.order[0]}"  # the first input shown
        else:
            anchor = field.id
        for message in field.errors:
            if row is None:
                found.append((anchor, str(message), str(field.label.text)))
            else:
                text = gettext("Antidepressant %(n)s: %(error)s", n=row, error=message)
                found.append((anchor, text, None))
    return found

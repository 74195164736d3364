"""Marks patient-facing strings for translation without importing Flask-Babel.

``N_`` returns its argument unchanged; ``pybabel extract -k N_`` collects the strings and the
templates translate them with ``_()`` at display time, so the core stays pure.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext_noop name
    """Mark ``message`` for translation; return it unchanged."""
    return message

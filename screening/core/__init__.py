"""The pure clinical core: instruments as data, scoring, flag and measurement rules, CSV and
FHIR building, references and possible-match keys.

Nothing in this package imports flask or sqlalchemy or does any I/O; the current time is
always passed in as an argument. ``tests/test_core_purity.py`` keeps it that way.

It imports nothing else of ``screening``.
"""

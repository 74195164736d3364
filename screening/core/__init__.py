"""The pure clinical core: instrument definitions, scoring, flag rules, CSV and FHIR building.

Nothing in this package imports flask or sqlalchemy or does any I/O; the current time is
always passed in as an argument. ``tests/test_core_purity.py`` keeps it that way.

It imports nothing else of ``screening``.
"""

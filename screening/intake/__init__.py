"""The patient's intake: consent, about you, PHQ-9, GAD-7, treatments, health, review."""

from .views import bp

__all__ = ["bp"]

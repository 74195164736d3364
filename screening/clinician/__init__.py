"""The clinicians' workspace under /clinician/: sign-in, dashboard, review, export, audit."""

from .views import bp

__all__ = ["bp"]

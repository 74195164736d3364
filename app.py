"""Entry point for `flask run` and gunicorn (`app:app`)."""

from screening import create_app

app = create_app()

"""Who may see what (being built: see issue 3). Until then nobody is signed in."""

from flask import Flask

from .extensions import login_manager


@login_manager.user_loader
def load_user(_session_token: str) -> None:
    return None


def init_app(app: Flask) -> None:
    pass

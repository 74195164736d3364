"""Security headers on every response, error pages and static files included."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def security_headers(is_secure: bool) -> dict[str, str]:
    """The headers every response carries, pages and static files alike; HSTS over HTTPS."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        # Not "no-referrer": Flask-WTF refuses an HTTPS POST without a same-origin Referer, so
        # with no-referrer every form would fail over HTTPS. Other sites still get no referrer.
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if is_secure:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.update(security_headers(request.is_secure))
    # Every dynamic page may show patient or staff data; only static files may be cached.
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)

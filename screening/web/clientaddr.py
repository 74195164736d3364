"""The client's address, as seen through any proxies the config says to trust."""

from flask import request


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]

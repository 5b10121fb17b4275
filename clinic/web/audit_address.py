"""Audit events written while serving a request record the address it came from."""

from flask import Flask, g, request

from clinic.core.audit import acting_from


def init_app(app: Flask) -> None:
    @app.before_request
    def _remember_address() -> None:
        g.audit_address = acting_from(request.remote_addr or "")
        g.audit_address.__enter__()

    @app.teardown_request
    def _forget_address(_error: BaseException | None) -> None:
        address = g.pop("audit_address", None)
        if address is not None:
            address.__exit__(None, None, None)

"""Whose address a request has, with and without a trusted proxy in front (PROXY_FIX_HOPS).

Rate limits and the audit log key on ``request.remote_addr``: behind a proxy it must be the
client's, and with no proxy trusted a client must not be able to choose it.
"""

from __future__ import annotations

import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import AuditEvent
from tests.support.apps import csrf_token, running_app
from tests.support.staff import PASSWORD, seed_staff_clinic

PROXY = "10.0.0.2"  # the proxy's own address, as the app's socket sees it
CLIENT = "203.0.113.9"


def sign_in_through(client, forwarded_for: str) -> None:
    page = client.get("/staff/sign-in", environ_base={"REMOTE_ADDR": PROXY})
    response = client.post(
        "/staff/sign-in",
        data={
            "csrf_token": csrf_token(page.text),
            "email": "admin@clinic.test",
            "password": PASSWORD,
        },
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert response.status_code == 303


def signed_in_from() -> str:
    db.session.rollback()
    return db.session.scalar(sa.select(AuditEvent.address).where(AuditEvent.action == "sign_in"))


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client):
    seed_staff_clinic()
    sign_in_through(client, CLIENT)
    assert signed_in_from() == PROXY


def test_with_one_trusted_proxy_its_x_forwarded_for_names_the_client(database_url, backend):
    with running_app(database_url, backend, PROXY_FIX_HOPS=1) as app:
        seed_staff_clinic()
        # The client made up the first address; the proxy appended the one it saw.
        sign_in_through(app.test_client(), f"198.51.100.66, {CLIENT}")
        assert signed_in_from() == CLIENT


def test_rate_limits_count_the_real_client_behind_the_proxy(database_url, backend):
    limited = {"LINK_RATE_LIMIT": "2 per minute"}
    with running_app(database_url, backend, PROXY_FIX_HOPS=1, **limited) as app:
        client = app.test_client()
        for visitor in ("198.51.100.1", "198.51.100.2"):
            for _ in range(2):
                response = client.get(
                    "/manage/not-a-real-link",
                    headers={"X-Forwarded-For": visitor},
                    environ_base={"REMOTE_ADDR": PROXY},
                )
                assert response.status_code == 404, visitor
        # The first visitor's third request is refused, however it dresses up its address.
        third = client.get(
            "/manage/not-a-real-link",
            headers={"X-Forwarded-For": "192.0.2.50, 198.51.100.1"},
            environ_base={"REMOTE_ADDR": PROXY},
        )
        assert third.status_code == 429


def test_without_a_trusted_proxy_a_made_up_address_does_not_escape_the_limit(database_url, backend):
    with running_app(database_url, backend, LINK_RATE_LIMIT="2 per minute") as app:
        client = app.test_client()
        statuses = [
            client.get(
                "/manage/not-a-real-link",
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
                environ_base={"REMOTE_ADDR": CLIENT},
            ).status_code
            for n in range(3)
        ]
        assert statuses == [404, 404, 429]

"""Every state-changing form refuses a post without its CSRF token, or with a forged one or
one from another browser: 400, nothing changed. The routes are walked from the app's URL map
(every POST but the JSON API, which takes no cookies), each sent the fields its page shows,
filled in so that with the token the post would be accepted.
"""

from __future__ import annotations

import pytest

from tests.support.apps import csrf_token
from tests.support.hostile import digest, seed_world_file, sqlite_app
from tests.support.hostile_forms import POSTS, _fields, _phone_details_page
from tests.support.hostile_values import encode
from tests.support.staff import sign_in


@pytest.fixture(scope="module")
def world_file(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("csrf") / "world.db"
    places = seed_world_file(path, sqlite_template)
    return path, places


def _post_rules(app) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("api.")
    }


@pytest.mark.parametrize("token", ["none", "forged", "another browser's"])
def test_every_form_refuses_a_post_without_its_token(world_file, tmp_path, token):
    path, places = world_file
    with sqlite_app(path, tmp_path) as app:
        assert _post_rules(app) == set(POSTS)
        admin, anyone, stranger = app.test_client(), app.test_client(), app.test_client()
        assert sign_in(admin, "admin").status_code == 303
        other = csrf_token(stranger.get("/staff/sign-in").text)
        places = dict(places, phone_details=_phone_details_page(admin), section="goals")
        forms = {}  # read every form first: the accepted posts below change the pages
        for endpoint, (who, page, action) in POSTS.items():
            client = admin if who else anyone
            page_url, target = page.format(**places), action.format(**places)
            forms[endpoint] = client, target, _fields(client, page_url, "post", target)
        refused = {}
        for endpoint, (client, target, fields) in forms.items():
            pairs = [(n, v[-1]) for n, v in fields.items() if n != "csrf_token"]
            if token == "forged":
                pairs.append(("csrf_token", "x" + fields["csrf_token"][-1][1:]))
            elif token != "none":
                pairs.append(("csrf_token", other))
            with app.app_context():
                before = digest()
            response = client.post(
                target, data=encode(pairs, {}), content_type="application/x-www-form-urlencoded"
            )
            with app.app_context():
                unchanged = digest() == before
            refused[endpoint] = (response.status_code, unchanged)
            assert "reload the page" in response.text, endpoint
            # The control: the same post with the page's own token is not refused as forged.
            session = client.get_cookie("session")
            pairs = [p for p in pairs if p[0] != "csrf_token"]
            pairs.append(("csrf_token", fields["csrf_token"][-1]))
            accepted = client.post(
                target, data=encode(pairs, {}), content_type="application/x-www-form-urlencoded"
            )
            assert accepted.status_code != 400, endpoint
            client.set_cookie(session.key, session.value)  # still signed in (or out) as before
        assert refused == dict.fromkeys(POSTS, (400, True))

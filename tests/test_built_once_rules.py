"""The tests' apps build URL rules once for the run (tests/support/apps.py): every URL they
build is the one Werkzeug's own rules build."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Rule

from tests.support.apps import BuiltOnceRule, make_app

SAMPLES = {"IntegerConverter": 7, "UnicodeConverter": "ab CD/é", "PathConverter": "a/b c"}


def _urls(app: Flask) -> dict[str, str]:
    adapter = app.url_map.bind("clinic.test")
    urls = {}
    for rule in app.url_map.iter_rules():
        values = {name: SAMPLES[type(c).__name__] for name, c in rule._converters.items()}
        for extra in ({}, {"next": "/staff/?a=1&b=2", "tz": "Europe/London"}):
            key = f"{rule.endpoint} {rule.rule} {sorted(rule.methods or [])} {extra}"
            urls[key] = adapter.build(rule.endpoint, {**values, **extra}, force_external=True)
    return urls


def test_the_apps_rules_build_every_url_as_werkzeugs_own(monkeypatch):
    built_once = make_app("sqlite://")
    assert built_once.url_rule_class is BuiltOnceRule
    monkeypatch.setattr(Flask, "url_rule_class", Rule)
    plain = make_app("sqlite://")
    assert all(type(rule) is Rule for rule in plain.url_map.iter_rules())
    assert _urls(built_once) == _urls(plain)
    assert len(_urls(plain)) > 100


def _tricky(rule_class: type[Rule]) -> dict[str, str]:
    """Rules that share parts but not defaults, and a default for a rule's own variable."""
    app = Flask(__name__)
    app.url_rule_class = rule_class
    app.add_url_rule("/page/", "first_page", defaults={"number": 1})
    app.add_url_rule("/page/<int:number>", "page")
    app.add_url_rule("/list/<int:number>", "listing", defaults={"number": 2, "kind": "all"})
    app.add_url_rule("/list/<int:number>", "listing_of", defaults={"kind": "some"})
    app.add_url_rule("/tag/<name>", "tag_of", defaults={"kind": "a"})
    app.add_url_rule("/tag/<name>", "tag")
    adapter = app.url_map.bind("clinic.test")
    asked = [("first_page", {}), ("page", {"number": 3}), ("listing", {"number": 2})]
    asked += [("listing_of", {"number": 5, "kind": "some", "q": "x y"})]
    asked += [("tag_of", {"name": "x", "kind": "a"}), ("tag", {"name": "x", "kind": "z"})]
    return {f"{e} {v}": adapter.build(e, v) for e, v in asked}


def test_rules_that_differ_only_in_defaults_build_their_own_urls(monkeypatch):
    monkeypatch.setattr(BuiltOnceRule, "_builders", {})
    assert _tricky(BuiltOnceRule) == _tricky(Rule)
    assert _tricky(BuiltOnceRule)["listing_of {'number': 5, 'kind': 'some', 'q': 'x y'}"] == (
        "/list/5?q=x+y"
    )
    assert _tricky(BuiltOnceRule)["tag {'name': 'x', 'kind': 'z'}"] == "/tag/x?kind=z"

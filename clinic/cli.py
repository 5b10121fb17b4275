"""``flask demo seed`` (more commands join as features land)."""

import click
from flask import Flask
from flask.cli import AppGroup

from clinic.demo import seed_demo

demo = AppGroup("demo", help="Demo data for trying the site.")


@demo.command("seed")
def seed_command() -> None:
    """Create a demo clinic with two practitioners, unless the database already has a clinic."""
    if seed_demo():
        click.echo("Demo clinic created: two practitioners, bookable from today.")
    else:
        click.echo("The database already has a clinic; nothing changed.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)

"""Entry point for ``gunicorn wsgi:app`` and the ``flask`` command."""

from clinic import create_app

app = create_app()

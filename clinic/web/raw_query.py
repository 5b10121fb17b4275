"""Query strings with raw bytes outside ASCII, percent-encoded before the app reads them.

Browsers percent-encode such bytes and gunicorn refuses a request line that holds them, but
other servers (Werkzeug's, behind ``make run``) pass them on, and Werkzeug then fails to decode
the query string (a 500). Encoded, a byte that isn't UTF-8 stays visible as ``%FF``, and the
form reading it answers with its usual message.
"""

from __future__ import annotations

from urllib.parse import quote


class PercentEncodeRawBytes:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():  # WSGI strings hold the raw bytes as latin-1 characters
            environ["QUERY_STRING"] = quote(
                query.encode("latin-1"), safe="".join(chr(c) for c in range(0x21, 0x7F))
            )
        return self.app(environ, start_response)


def init_app(app) -> None:
    app.wsgi_app = PercentEncodeRawBytes(app.wsgi_app)

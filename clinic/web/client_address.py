"""Where the request being served came from, as the audit log records it.

Behind a proxy this is the client's own address once ``PROXY_FIX_HOPS`` tells ProxyFix how many
hops to trust.
"""

from flask import request


def client_address() -> str:
    return request.remote_addr or ""

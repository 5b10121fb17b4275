"""Requests this product makes to other servers (calendar feeds, CalDAV, and later webhooks).

Each is bounded: only ``http``/``https``; never to a loopback, private, link-local (cloud
metadata) or otherwise special address unless the caller's setting allows private ones;
checked on the address actually connected to, on every redirect, at most five of them; with
timeouts, a size cap and a deadline for the whole body.
"""

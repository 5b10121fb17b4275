"""Which network addresses an outbound request may connect to."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else the address itself:
    ``::ffff:127.0.0.1`` is loopback, whatever its spelling."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if any(address in network for network in _NAT64):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def allowed(address: IPAddress, *, allow_private: bool) -> bool:
    """Public addresses always; loopback and private ones (RFC 1918, fc00::/7, the old
    site-local fec0::/10, 100.64/10)
    only with ``allow_private``; link-local (169.254.169.254, cloud metadata, included),
    unspecified, multicast, broadcast and reserved addresses never."""
    address = embedded_ipv4(address)
    if (
        address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address == _BROADCAST
    ):
        return False
    if address.is_loopback or (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    ):
        return allow_private
    if address.is_reserved:
        return False
    if address.is_global:
        return True
    return allow_private

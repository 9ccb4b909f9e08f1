"""Where a webhook may be sent, and sending it there without turning the server on its own network.

An endpoint is `https` on a public address. Plain `http`, and loopback, only where
settings.WEBHOOK_ALLOW_INSECURE is on (local development). A URL carries no user name or password
and a port from 1 to 65535.

A name is resolved once per request and every address it resolves to must be public (not
loopback, private, shared, link-local, multicast, reserved or unspecified, nor an IPv6 form that
embeds such an IPv4 address). The connection is then made to exactly those checked addresses,
while the name is kept for the Host header and for TLS (SNI and certificate verification): a DNS
answer that changes between the check and the connection (rebinding) cannot redirect the request.
Redirects are not followed. A failure is recorded as a stable category (`timeout`,
`connection_refused`, `tls_error`, `http_<status>`, `blocked_address`, `dns_error`, …), never the
socket's text, which would make the webhook a port scanner.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_URL_LENGTH = 500

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class TargetRefused(Exception):
    """The URL, or an address it resolves to, may not be sent to. `category` is stable."""

    def __init__(self, message: str, category: str):
        super().__init__(message)
        self.message = message
        self.category = category


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (lower case, no brackets): the Host header and the TLS server name
    port: int
    path: str  # path and query, at least "/"


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str  # "" or a stable category

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def insecure_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_INSECURE)


def parse_target(url, *, insecure: bool) -> Target:
    """The parts of an endpoint URL, or TargetRefused (category `invalid_url` or `insecure_url`)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise TargetRefused("Enter a URL of at most 500 characters.", "invalid_url")
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise TargetRefused(
            "Write the URL in ASCII without spaces (punycode for international names).",
            "invalid_url",
        )
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise TargetRefused("Enter a valid https URL.", "invalid_url") from None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (insecure and scheme == "http"):
        raise TargetRefused("Webhook endpoints must use https.", "insecure_url")
    if "@" in parts.netloc:
        raise TargetRefused("A webhook URL may not carry a user name or password.", "invalid_url")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = 443 if scheme == "https" else 80
    if not 1 <= port <= 65535:
        raise TargetRefused("The port must be a number from 1 to 65535.", "invalid_url")
    host = parts.hostname
    if not host:
        raise TargetRefused("Enter a valid https URL.", "invalid_url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path)


def _embedded(ip):
    """The address itself and every IPv4 address an IPv6 address stands for."""
    yield ip
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            yield ip.ipv4_mapped
        if ip.sixtofour is not None:
            yield ip.sixtofour
        if ip.teredo is not None:
            yield from ip.teredo
        if any(ip in network for network in _NAT64):
            yield ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _public(ip) -> bool:
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (ip.version == 6 and ip.is_site_local)
    )


def address_allowed(address: str, *, insecure: bool) -> bool:
    """Whether a resolved address may be connected to: public, or loopback where insecure."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone is not an address
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if ip.version == 6 else None
    if insecure and (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
        return True
    return all(_public(view) for view in _embedded(ip))


def resolve(target: Target, *, insecure: bool) -> list[str]:
    """Every address the target's host resolves to, each checked; TargetRefused otherwise."""
    try:
        infos = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError, ValueError):
        raise TargetRefused("The host name does not resolve.", "dns_error") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused("The host name does not resolve.", "dns_error")
    if not all(address_allowed(address, insecure=insecure) for address in addresses):
        raise TargetRefused(
            "The URL resolves to a loopback, private, link-local, multicast or reserved "
            "address; webhooks go to public addresses only.",
            "blocked_address",
        )
    return addresses


def check_registration(url: str) -> None:
    """Refuse (TargetRefused) a URL that may not be registered. A name that does not resolve yet
    is accepted: its addresses are checked again at every delivery."""
    insecure = insecure_allowed()
    target = parse_target(url, insecure=insecure)
    try:
        resolve(target, insecure=insecure)
    except TargetRefused as refusal:
        if refusal.category != "dns_error":
            raise


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # certificate and host name verified


class _Pinned(http.client.HTTPConnection):
    """An HTTP(S) connection to `addresses` (already checked) instead of a fresh look-up of its
    host; the host still names the Host header and the TLS server."""

    def __init__(self, host, port, *, addresses: list[str], **kwargs):
        super().__init__(host, port, **kwargs)
        self.addresses = addresses
        self._create_connection = self._connect_checked

    def _connect_checked(self, address, timeout, source_address=None):
        _, port = address
        error: OSError = OSError("No address to connect to.")
        for ip in self.addresses:
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error


class PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    pass


class PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    pass


def _category(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "tls_error"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(error, ConnectionError):  # reset, aborted, broken pipe, closed early
        return "connection_reset"
    if isinstance(error, http.client.HTTPException):
        return "protocol_error"
    if isinstance(error, socket.gaierror):
        return "dns_error"
    return "unreachable"


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    """POST `body` once to `url` after checking it and every address it resolves to. Never
    raises for what the network or the receiver does; a redirect is an answer, not followed."""
    insecure = insecure_allowed()
    try:
        target = parse_target(url, insecure=insecure)
        addresses = resolve(target, insecure=insecure)
    except TargetRefused as refusal:
        return Outcome(status=None, error=refusal.category)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = PinnedHTTPSConnection(
            target.host, target.port, addresses=addresses, timeout=timeout, context=tls_context()
        )
    else:
        connection = PinnedHTTPConnection(
            target.host, target.port, addresses=addresses, timeout=timeout
        )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return Outcome(status=None, error=_category(error))
    finally:
        connection.close()
    return Outcome(status=status, error="" if 200 <= status < 300 else f"http_{status}")

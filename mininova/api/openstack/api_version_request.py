"""Microversions (mirrors ``nova/api/openstack/api_version_request.py``).

Every request to the compute API has a version, ``2.1`` up to
:data:`MAX_VERSION`. A client asks for one with the header
``OpenStack-API-Version: compute 2.47`` (or the older
``X-OpenStack-Nova-API-Version: 2.47``), or ``latest`` for the maximum; with
neither it gets 2.1, so a client written for 2.1 never sees a body change.
A version outside the range is refused with 406, a malformed one with 400.
Handlers ask ``api_version_request.is_supported("2.47")`` and change the
body accordingly; ``docs/api.md`` lists what each version changes here.

Left out: Nova's ``@wsgi.Controller.api_version`` decorator that picks one
of several methods by version (here one handler checks the version).
"""

import re

from mininova import exception

MIN_VERSION = "2.1"
# The Train release's maximum: every microversion up to it is either
# reproduced or listed in docs/api.md as not applying (a feature left out).
MAX_VERSION = "2.79"

SERVICE_TYPE = "compute"
HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"

_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class VersionNotSupported(exception.MininovaException):
    msg_fmt = ("Version %(ver)s is not supported by the API. Minimum is %(min_ver)s and "
               "maximum is %(max_ver)s.")
    code = 406
    safe = True


class InvalidVersionFormat(exception.Invalid):
    msg_fmt = ("API Version String %(version)s is of invalid format. Must be of format "
               "MajorNum.MinorNum.")


class APIVersionRequest:
    """A ``major.minor`` version that compares as numbers (2.10 > 2.9)."""

    def __init__(self, text):
        match = _VERSION.match(text)
        if not match:
            raise InvalidVersionFormat(version=text)
        self.major, self.minor = int(match.group(1)), int(match.group(2))

    def _key(self):
        return (self.major, self.minor)

    def __eq__(self, other):
        return self._key() == _as_request(other)._key()

    def __lt__(self, other):
        return self._key() < _as_request(other)._key()

    def __le__(self, other):
        return self._key() <= _as_request(other)._key()

    def __gt__(self, other):
        return self._key() > _as_request(other)._key()

    def __ge__(self, other):
        return self._key() >= _as_request(other)._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        return f"{self.major}.{self.minor}"

    __repr__ = __str__


def _as_request(value):
    return value if isinstance(value, APIVersionRequest) else APIVersionRequest(value)


def from_headers(headers):
    """The version a request asks for, checked against the range.

    The standard header wins over the legacy one, as in Nova; a standard
    header for another service (``volume 3.0``) does not count."""
    requested = None
    for part in headers.get(HEADER, "").split(","):
        service, _sep, version = part.strip().partition(" ")
        if service.lower() == SERVICE_TYPE and version.strip():
            requested = version.strip()
    if requested is None:
        requested = headers.get(LEGACY_HEADER, "").strip() or None
    if requested is None:
        return APIVersionRequest(MIN_VERSION)
    if requested.lower() == "latest":
        return APIVersionRequest(MAX_VERSION)
    version = APIVersionRequest(requested)
    if not APIVersionRequest(MIN_VERSION) <= version <= APIVersionRequest(MAX_VERSION):
        raise VersionNotSupported(ver=requested, min_ver=MIN_VERSION, max_ver=MAX_VERSION)
    return version


def response_headers(version):
    return {
        HEADER: f"{SERVICE_TYPE} {version}",
        LEGACY_HEADER: str(version),
        "Vary": f"{HEADER}, {LEGACY_HEADER}",
    }


def current():
    """The version of the request being answered (2.1 outside a request)."""
    from flask import g, has_request_context

    if has_request_context() and "api_version" in g:
        return g.api_version
    return APIVersionRequest(MIN_VERSION)


def is_supported(min_version, max_version=None):
    """Whether the current request's version is within the range."""
    version = current()
    if version < min_version:
        return False
    return max_version is None or version <= max_version

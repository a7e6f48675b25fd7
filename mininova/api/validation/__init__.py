"""JSON-schema validation of request bodies (mirrors ``nova/api/validation/``).

Every body a client sends is checked against a schema before any code
runs; every schema is closed (``additionalProperties: false``), so a typo in
a field name is a 400 naming the field rather than an option silently
ignored. The error message has Nova's shape:
``Invalid input for field/attribute <path>. Value: <value>. <reason>``.

A body may change with the microversion: :class:`Versioned` holds one
schema per version where it changed, and the request's version picks one
(Nova stacks one ``@validation.schema(s, "2.19", "2.31")`` per range).

Query strings are checked too (:func:`query`): every parameter is a list of
strings, as a URL may repeat it. Before microversion 2.75 most lists
ignored a parameter they did not know (Nova strips it); from 2.75 such a
parameter is a 400, and the schemas of those versions are closed.
"""

import base64
import binascii
import functools
import re

import jsonschema
from flask import request
from oslo_utils import timeutils

from mininova import exception


def _error_message(error):
    # As Nova: name only the innermost field ("name", not "server/name");
    # an error about the body as a whole is just the validator's message.
    if not error.path:
        return error.message
    return (f"Invalid input for field/attribute {error.path[-1]}. "
            f"Value: {error.instance}. {error.message}")


def _query_error_message(error):
    # A query parameter's path is (name, index in its list of values).
    if not error.path:
        return error.message
    return (f"Invalid input for query parameters {error.path[0]}. "
            f"Value: {error.instance}. {error.message}")


FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("base64", raises=(binascii.Error, TypeError))
def _is_base64(value):
    """``user_data`` must be base64, as Nova's ``format: base64`` checks."""
    base64.b64decode(value, validate=True)
    return True


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value):
    """``changes-since=2024-05-01T10:00:00Z``: ISO 8601, as Nova parses it."""
    timeutils.parse_isotime(value)
    return True


@FORMAT_CHECKER.checks("regex", raises=Exception)
def _is_regex(value):
    re.compile(value)
    return True


class Versioned:
    """One schema per microversion where it changed: ``Versioned({"2.1": a,
    "2.19": b})`` is ``a`` from 2.1 to 2.18 and ``b`` from 2.19 on."""

    def __init__(self, by_version):
        self.by_version = by_version

    def current(self):
        from mininova.api.openstack import api_version_request

        chosen = None
        for version, version_schema in self.by_version.items():
            if api_version_request.is_supported(version):
                chosen = version_schema
        if chosen is None:
            # No schema at this version: the API itself does not exist here.
            raise exception.VersionNotFoundForAPIMethod(
                version=api_version_request.current())
        return chosen


def _resolve(any_schema):
    return any_schema.current() if isinstance(any_schema, Versioned) else any_schema


def validate(schema, body):
    validator = jsonschema.Draft202012Validator(_resolve(schema),
                                                format_checker=FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise exception.ValidationError(detail=_error_message(error))


def schema(request_body_schema):
    """Decorator: validate the JSON body, then pass it as ``body``."""
    def decorator(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            body = request.get_json(silent=True)
            if body is None:
                raise exception.Invalid("Malformed request body")
            validate(request_body_schema, body)
            return function(*args, body=body, **kwargs)
        return wrapper
    return decorator


def query(query_schema):
    """The request's query parameters (``{name: [value, ...]}``) checked
    against ``query_schema`` (a schema or :class:`Versioned`).

    A schema open to other parameters drops them, as Nova's does: what a
    handler never asked for must not reach the database query."""
    query_schema = _resolve(query_schema)
    params = request.args.to_dict(flat=False)
    validator = jsonschema.Draft202012Validator(query_schema, format_checker=FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(params))
    if error is not None:
        raise exception.ValidationError(detail=_query_error_message(error))
    if query_schema.get("additionalProperties", True) is not False:
        known = query_schema.get("properties", {})
        patterns = query_schema.get("patternProperties", {})
        params = {name: values for name, values in params.items()
                  if name in known or any(re.search(p, name) for p in patterns)}
    return params

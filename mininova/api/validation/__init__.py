"""JSON-schema validation of request bodies (mirrors ``nova/api/validation/``).

Every body a client sends is checked against a schema before any code
runs; every schema is closed (``additionalProperties: false``), so a typo in
a field name is a 400 naming the field rather than an option silently
ignored. The error message has Nova's shape:
``Invalid input for field/attribute <path>. Value: <value>. <reason>``.
"""

import base64
import binascii
import functools

import jsonschema
from flask import request

from mininova import exception


def _error_message(error):
    # As Nova: name only the innermost field ("name", not "server/name");
    # an error about the body as a whole is just the validator's message.
    if not error.path:
        return error.message
    return (f"Invalid input for field/attribute {error.path[-1]}. "
            f"Value: {error.instance}. {error.message}")


FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("base64", raises=(binascii.Error, TypeError))
def _is_base64(value):
    """``user_data`` must be base64, as Nova's ``format: base64`` checks."""
    base64.b64decode(value, validate=True)
    return True


def validate(schema, body):
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise exception.ValidationError(detail=_error_message(error))


def validated_body(request_body_schema):
    """The request's JSON body, checked against ``request_body_schema``
    (handlers whose schema depends on the microversion call this)."""
    body = request.get_json(silent=True)
    if body is None:
        raise exception.Invalid("Malformed request body")
    validate(request_body_schema, body)
    return body


def schema(request_body_schema):
    """Decorator: validate the JSON body, then pass it as ``body``."""
    def decorator(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return function(*args, body=validated_body(request_body_schema), **kwargs)
        return wrapper
    return decorator

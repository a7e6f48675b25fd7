"""api.validation: schemas picked by microversion, and query strings
checked, with what an open schema does not know dropped."""

import flask
import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import api_version_request

A = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
B = {"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": False}
VERSIONED = validation.Versioned({"2.1": A, "2.19": B})

app = flask.Flask(__name__)


def at(version, path="/"):
    context = app.test_request_context(path)
    context.push()
    flask.g.api_version = api_version_request.APIVersionRequest(version)
    return context


@pytest.mark.parametrize("version, expected", [("2.1", A), ("2.18", A), ("2.19", B),
                                               ("2.79", B)])
def test_the_schema_of_a_version(version, expected):
    with at(version):
        assert VERSIONED.current() is expected


def test_no_schema_before_the_first_version_is_a_404():
    later = validation.Versioned({"2.26": A})
    with at("2.25"), pytest.raises(exception.VersionNotFoundForAPIMethod):
        later.current()


def test_an_open_query_schema_drops_what_it_does_not_know():
    open_schema = {"type": "object", "properties": {"name": {"type": "array"}}}
    with at("2.1", "/?name=a&name=b&colour=blue"):
        assert validation.query(open_schema) == {"name": ["a", "b"]}


def test_a_closed_query_schema_refuses_it():
    closed = {"type": "object", "properties": {"name": {"type": "array"}},
              "additionalProperties": False}
    with at("2.1", "/?colour=blue"), pytest.raises(exception.ValidationError) as caught:
        validation.query(closed)
    assert str(caught.value) == "Additional properties are not allowed ('colour' was unexpected)"


def test_a_bad_value_names_the_parameter():
    schema = {"type": "object", "properties": {
        "since": {"type": "array", "items": {"type": "string", "format": "date-time"}}}}
    with at("2.1", "/?since=yesterday"), pytest.raises(exception.ValidationError) as caught:
        validation.query(schema)
    assert str(caught.value).startswith("Invalid input for query parameters since. "
                                        "Value: yesterday.")

"""mininova exceptions: a message template filled with keyword arguments."""

import pytest

from mininova import exception


def test_message_is_the_template_filled_with_the_kwargs():
    exc = exception.InstanceNotFound(instance_id="abc")
    assert str(exc) == "Instance abc could not be found."
    assert exc.format_message() == "Instance abc could not be found."
    assert exc.kwargs == {"instance_id": "abc"}


def test_an_explicit_message_wins_over_the_template():
    exc = exception.InstanceNotFound(message="gone", instance_id="abc")
    assert str(exc) == "gone"
    assert exc.kwargs == {"instance_id": "abc"}


def test_a_missing_kwarg_falls_back_to_the_template_without_raising():
    exc = exception.InstanceNotFound(wrong_name="abc")
    assert str(exc) == "Instance %(instance_id)s could not be found."


def test_a_template_without_placeholders_ignores_kwargs():
    assert str(exception.Forbidden(extra=1)) == "Forbidden"


@pytest.mark.parametrize("cls, code", [
    (exception.ValidationError, 400),
    (exception.NotAuthenticated, 401),
    (exception.PolicyNotAuthorized, 403),
    (exception.InstanceNotFound, 404),
    (exception.InstanceInvalidState, 409),
    (exception.RequestTooLarge, 413),
    (exception.NoValidHost, 500),
    (exception.ImageServiceUnavailable, 503),
])
def test_each_exception_carries_its_http_code(cls, code):
    assert cls.code == code


def test_invalid_state_message_has_novas_shape():
    exc = exception.InstanceInvalidState(action="pause", server_id="abc",
                                         attr="vm_state", state="stopped")
    assert str(exc) == "Cannot 'pause' instance abc while it is in vm_state stopped"


def test_by_name_finds_our_exceptions_only():
    assert exception.by_name("InstanceNotFound") is exception.InstanceNotFound
    assert exception.by_name("ValueError") is None
    assert exception.by_name("LOG") is None

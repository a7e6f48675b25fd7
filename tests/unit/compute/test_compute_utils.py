"""exception_to_fault: what an instance fault records for an exception."""

from mininova import exception
from mininova.compute import utils as compute_utils


def raised(exc):
    """The exception as it arrives in an except block, with its traceback."""
    try:
        raise exc
    except Exception as caught:
        return caught


def test_no_valid_host_is_a_500_with_novas_message():
    fault = compute_utils.exception_to_fault(
        raised(exception.NoValidHost(reason="There are not enough hosts available.")))
    assert fault["code"] == 500
    assert fault["message"] == "No valid host was found. There are not enough hosts available."


def test_our_exceptions_keep_their_http_code():
    fault = compute_utils.exception_to_fault(
        raised(exception.InstanceNotFound(instance_id="abc")))
    assert fault["code"] == 404
    assert fault["message"] == "Instance abc could not be found."


def test_details_are_only_kept_for_500s():
    fault = compute_utils.exception_to_fault(
        raised(exception.InstanceNotFound(instance_id="abc")))
    assert fault["details"] == ""


def test_unexpected_error_shows_only_its_class_name_and_keeps_the_traceback():
    fault = compute_utils.exception_to_fault(raised(ValueError("x")))
    assert fault["code"] == 500
    assert fault["message"] == "ValueError"
    assert fault["details"].startswith("Traceback (most recent call last):")
    assert fault["details"].rstrip().endswith("ValueError: x")


def test_a_remote_traceback_is_preferred_in_the_details():
    exc = exception.InternalError(err="boom")
    exc.remote_traceback = "Traceback from the conductor"
    assert compute_utils.exception_to_fault(exc)["details"] == "Traceback from the conductor"


def test_long_messages_are_cut_to_255_characters():
    fault = compute_utils.exception_to_fault(exception.InternalError(err="x" * 300))
    assert fault["message"] == "x" * 255

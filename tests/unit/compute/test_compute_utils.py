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


def test_a_long_message_is_cut_after_a_whole_word_and_kept_whole_in_details():
    text = ("Build of instance u1 aborted: Failed to download image i1: "
            + "connection broken: " * 12 + "IncompleteRead(2306 bytes read, 7 more expected)")
    fault = compute_utils.exception_to_fault(raised(exception.BuildAbortException(
        instance_uuid="u1", reason=text.split("aborted: ", 1)[1])))
    assert len(fault["message"]) <= 255
    assert fault["message"].endswith(" ...")
    kept = fault["message"][:-len(" ...")]
    assert text.startswith(kept)
    # It ends where a word ends (its trailing punctuation dropped).
    assert text[len(kept)] in " :"
    assert kept.endswith("connection broken")
    assert fault["details"].startswith(text + "\n\nTraceback")


def test_a_cut_message_goes_before_the_traceback_of_a_500():
    fault = compute_utils.exception_to_fault(raised(exception.InternalError(err="word " * 80)))
    assert fault["message"].endswith("word ...")
    assert fault["details"].startswith("word word")
    assert "Traceback (most recent call last):" in fault["details"]


def test_one_endless_word_is_cut_where_it_must_be():
    assert compute_utils.cut_message("x" * 300) == "x" * 251 + " ..."


def test_a_message_that_fits_is_left_alone():
    text = "y " * 127 + "z"
    assert len(text) == 255
    assert compute_utils.cut_message(text) == text

"""The POST /servers body schema, checked by api.validation.validate.

Errors have Nova's shape: ``Invalid input for field/attribute <innermost field>.
Value: <value>. <reason>``; an error about the body as a whole is the bare
validator message, as in Nova.
"""

import copy

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import servers

VALID = {"server": {"name": "web-1", "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
                    "flavorRef": "1"}}


def body_with(**server_fields):
    body = copy.deepcopy(VALID)
    body["server"].update(server_fields)
    return body


def rejected(body):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(servers.create, body)
    return str(caught.value)


def test_a_minimal_create_body_is_valid():
    validation.validate(servers.create, VALID)


def test_a_full_create_body_is_valid():
    validation.validate(servers.create, body_with(
        metadata={"role": "web", "a-b_c:d. e": "v" * 255}, min_count=1, max_count="2",
        user_data="IyEvYmluL3NoCmVjaG8gaGk=", availability_zone="nova",
        config_drive=True, key_name="mykey", name="n" * 255))


def test_validation_errors_are_400s():
    assert exception.ValidationError.code == 400


@pytest.mark.parametrize("name", ["", "n" * 256, " web", "web ", "\nweb", "we\x01b"])
def test_bad_names_are_rejected(name):
    assert rejected(body_with(name=name)).startswith(
        "Invalid input for field/attribute name.")


def test_a_name_ending_in_a_newline_is_rejected():
    assert rejected(body_with(name="web\n")).startswith(
        "Invalid input for field/attribute name.")


def test_an_unknown_field_in_server_is_named():
    message = rejected(body_with(colour="blue"))
    assert message.startswith("Invalid input for field/attribute server.")
    assert "'colour' was unexpected" in message


def test_an_unknown_top_level_field_is_rejected():
    body = copy.deepcopy(VALID)
    body["extra"] = 1
    assert rejected(body) == "Additional properties are not allowed ('extra' was unexpected)"


def test_a_missing_flavor_ref_is_named():
    body = copy.deepcopy(VALID)
    del body["server"]["flavorRef"]
    message = rejected(body)
    assert message.startswith("Invalid input for field/attribute server.")
    assert "'flavorRef' is a required property" in message


def test_a_metadata_value_over_255_characters_is_rejected():
    message = rejected(body_with(metadata={"key": "v" * 256}))
    assert message.startswith("Invalid input for field/attribute key.")
    assert message.endswith("is too long")


def test_a_metadata_key_with_a_slash_is_rejected():
    assert rejected(body_with(metadata={"a/b": "v"})).startswith(
        "Invalid input for field/attribute metadata.")


def test_a_metadata_key_ending_in_a_newline_is_rejected():
    assert rejected(body_with(metadata={"key\n": "v"})).startswith(
        "Invalid input for field/attribute metadata.")


def test_the_number_of_metadata_items_is_not_the_schemas_business():
    """It is a quota, checked (with its 403) by the compute API."""
    validation.validate(servers.create, body_with(metadata={f"k{i}": "v" for i in range(500)}))


def test_user_data_must_be_base64():
    message = rejected(body_with(user_data="not base64!"))
    assert message == ("Invalid input for field/attribute user_data. Value: not base64!. "
                       "'not base64!' is not a 'base64'")


def test_min_count_must_be_at_least_one():
    message = rejected(body_with(min_count=0))
    assert message == ("Invalid input for field/attribute min_count. Value: 0. "
                       "0 is less than the minimum of 1")

"""The POST /servers body schema, checked by api.validation.validate.

Errors have Nova's shape: ``Invalid input for field/attribute <innermost field>.
Value: <value>. <reason>``; an error about the body as a whole is the bare
validator message, as in Nova.
"""

import copy

import flask
import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import api_version_request
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


# --- a NIC's device role tag: 2.32 to 2.36, and from 2.42 (Nova's bug kept) ---------------

NETWORK = "70a599e0-31e7-49b7-b260-868f441e862b"
TAGGED_NICS = [{"uuid": NETWORK, "tag": "nic1"},
               {"port": "9d3f6a2e-1b4c-4e8f-a7d6-5c2b1a0f9e8d", "tag": "nic2"},
               {"uuid": NETWORK, "fixed_ip": "10.0.0.5", "tag": "nic3"}]


def at_version(version):
    context = flask.Flask(__name__).test_request_context("/")
    context.push()
    flask.g.api_version = api_version_request.APIVersionRequest(version)
    return context


@pytest.mark.parametrize("version", ["2.32", "2.33", "2.36", "2.42", "2.79"])
def test_a_nic_tag_is_taken_at_2_32_to_2_36_and_from_2_42(version):
    context = at_version(version)
    try:
        body = body_with(networks=TAGGED_NICS)
        # The create schema, then check_networks' own (required from 2.37).
        validation.validate(servers.create, body)
        validation.validate(servers.networks, body)
    finally:
        context.pop()


@pytest.mark.parametrize("version", ["2.1", "2.31", "2.37", "2.41"])
@pytest.mark.parametrize("schema", ["create", "networks"])
def test_a_nic_tag_is_refused_at_the_other_versions(version, schema):
    context = at_version(version)
    try:
        with pytest.raises(exception.ValidationError) as caught:
            validation.validate(getattr(servers, schema), body_with(networks=TAGGED_NICS[:1]))
    finally:
        context.pop()
    # Nova's closed schema's words (additionalProperties: false).
    assert str(caught.value) == (
        f"Invalid input for field/attribute 0. Value: {TAGGED_NICS[0]}. "
        "Additional properties are not allowed ('tag' was unexpected)")


@pytest.mark.parametrize("version", ["2.33", "2.36"])
def test_between_2_33_and_2_36_a_nic_takes_a_tag_and_a_disk_does_not(version):
    mapping = {"uuid": NETWORK, "source_type": "image", "destination_type": "local",
               "boot_index": 0, "tag": "root"}
    context = at_version(version)
    try:
        validation.validate(servers.create, body_with(networks=TAGGED_NICS))
        with pytest.raises(exception.ValidationError, match="'tag' was unexpected"):
            validation.validate(servers.create, body_with(block_device_mapping_v2=[mapping]))
    finally:
        context.pop()


def test_a_nic_tag_is_a_server_tag_string():
    context = at_version("2.42")
    try:
        for bad in ("a/b", "a,b", "x" * 61, ""):
            with pytest.raises(exception.ValidationError):
                validation.validate(servers.create, body_with(
                    networks=[{"uuid": NETWORK, "tag": bad}]))
    finally:
        context.pop()

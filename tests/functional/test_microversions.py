"""Microversion negotiation as Nova does it: the headers asked and
answered, ``latest``, the range, and a 2.1 default."""

import pytest

from mininova.api.openstack import api_version_request as avr


def get(client, path, **headers):
    return client.session.get(f"{client.compute_url}{path}", headers=headers)


def test_no_header_is_2_1(admin):
    response = get(admin, "/flavors")
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert "OpenStack-API-Version" in response.headers["Vary"]


@pytest.mark.parametrize("headers", [
    {"OpenStack-API-Version": "compute 2.47"},
    {"X-OpenStack-Nova-API-Version": "2.47"},
    {"OpenStack-API-Version": "volume 3.5, compute 2.47"},
])
def test_the_version_asked_is_the_version_answered(admin, headers):
    response = get(admin, "/flavors", **headers)
    assert response.status_code == 200
    assert response.headers["OpenStack-API-Version"] == "compute 2.47"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.47"


def test_the_standard_header_wins_over_the_legacy_one(admin):
    response = get(admin, "/flavors", **{"OpenStack-API-Version": "compute 2.10",
                                         "X-OpenStack-Nova-API-Version": "2.20"})
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.10"


def test_latest_is_the_maximum(admin):
    response = get(admin, "/flavors", **{"OpenStack-API-Version": "compute latest"})
    assert response.headers["OpenStack-API-Version"] == f"compute {avr.MAX_VERSION}"


@pytest.mark.parametrize("version", ["2.999", "3.0", "2.0", "1.1"])
def test_a_version_outside_the_range_is_406(admin, version):
    response = get(admin, "/flavors", **{"OpenStack-API-Version": f"compute {version}"})
    assert response.status_code == 406
    assert response.json() == {"computeFault": {"code": 406, "message": (
        f"Version {version} is not supported by the API. Minimum is 2.1 and maximum is "
        f"{avr.MAX_VERSION}.")}}


@pytest.mark.parametrize("version", ["2", "2.x", "two", "2.01"])
def test_a_malformed_version_is_400(admin, version):
    response = get(admin, "/flavors", **{"OpenStack-API-Version": f"compute {version}"})
    assert response.status_code == 400
    assert "is of invalid format" in response.json()["badRequest"]["message"]


def test_the_version_document_gives_the_range(admin):
    response = admin.session.get(admin.compute_url)
    version = response.json()["version"]
    assert (version["min_version"], version["version"]) == ("2.1", avr.MAX_VERSION)


def test_versions_compare_as_numbers():
    assert avr.APIVersionRequest("2.10") > avr.APIVersionRequest("2.9")
    assert avr.APIVersionRequest("2.79") == "2.79"

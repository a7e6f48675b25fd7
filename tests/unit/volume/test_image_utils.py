"""Which image file a volume is written from (Cinder's
``allowed_direct_url_schemes``): no I/O."""

import pytest

from mininova.volume.service import image_utils

IMAGE = {"id": "7c1f3b0e-5a8b-4d3c-9f5e-2b7a6c1d0e9f"}
STORE_FILE = "/var/lib/mininova/images/7c1f3b0e-5a8b-4d3c-9f5e-2b7a6c1d0e9f"


@pytest.fixture
def file_allowed(conf):
    conf.set_override("allowed_direct_url_schemes", ["file"], "volume")


def test_off_by_default_even_with_a_direct_url(conf):
    assert image_utils.direct_file_path(dict(IMAGE, direct_url=f"file://{STORE_FILE}")) is None


def test_the_direct_url_file(file_allowed):
    assert image_utils.direct_file_path(
        dict(IMAGE, direct_url=f"file://{STORE_FILE}")) == STORE_FILE


def test_an_image_service_that_shows_no_location(file_allowed):
    assert image_utils.direct_file_path(IMAGE) is None


def test_other_schemes_are_skipped_for_a_file_location(file_allowed):
    image = dict(IMAGE, direct_url="rbd://fsid/images/x/snap",
                 locations=[{"url": "swift+https://swift/v1/x", "metadata": {}},
                            {"url": f"file://{STORE_FILE}", "metadata": {}}])
    assert image_utils.direct_file_path(image) == STORE_FILE


def test_only_other_schemes_means_the_http_download(file_allowed):
    image = dict(IMAGE, direct_url="http://store/x", locations=[{"url": "rbd://a/b/c/d"}])
    assert image_utils.direct_file_path(image) is None


def test_only_file_is_a_scheme_the_option_takes(conf):
    with pytest.raises(ValueError):
        conf.set_override("allowed_direct_url_schemes", ["cinder"], "volume")

"""Version documents (mirrors ``nova/api/openstack/compute/versions.py`` and
``versionsV21.py``). No token needed: clients read these to discover us."""

from flask import Blueprint, jsonify

from mininova.api.openstack import api_version_request, common

blueprint = Blueprint("versions", __name__)

UPDATED = "2013-07-23T11:33:21Z"


def _v21():
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": api_version_request.MAX_VERSION,
        "min_version": api_version_request.MIN_VERSION,
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{common.base_url()}/v2.1/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


@blueprint.get("/")
def root():
    return jsonify({"versions": [_v21()]})


@blueprint.get("/v2.1")
def v21():
    return jsonify({"version": _v21()})

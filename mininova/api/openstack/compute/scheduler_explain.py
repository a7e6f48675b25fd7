"""``GET /servers/<server_id>/os-scheduler-explain``: why the scheduler put a
server where it did, or why it found no host. Nova has no such API; it is
mininova's answer to the bare ``No valid host was found.``

The scheduler records one decision per attempt (a reschedule after a failed
build is attempt 2, and so on): the hosts it started from, each filter in
order with the hosts it started and ended with and its verdict on the hosts
it looked at, each remaining host's weight (and what every weigher gave it,
raw and normalised), and the host selected, if any::

    {"attempts": [{"attempt": 1, "request_id": "req-...", "created_at": "...Z",
                   "hosts": [{"host": "h1", "node": "h1"}, ...],
                   "filters": [{"name": "RamFilter", "start": 3, "end": 1,
                                "verdicts": [{"host", "node", "passed", "reason"}]}],
                   "weights": [{"host", "node", "weight", "parts": {"RAMWeigher": [raw, w]}}],
                   "selected": {"host": "h2", "node": "h2"} or null}]}

Who may ask: whoever may see the server (its project, or an admin); another
project's server is a 404, as for ``GET /servers/<id>``.
"""

from flask import Blueprint, jsonify

from mininova import utils
from mininova.api.openstack import common
from mininova.db import scheduling as scheduling_db

blueprint = Blueprint("scheduler_explain", __name__)


def _attempt(decision):
    selected = None
    if decision["selected_host"]:
        selected = {"host": decision["selected_host"], "node": decision["selected_node"]}
    return {
        "attempt": decision["attempt"],
        "request_id": decision["request_id"],
        "created_at": utils.isotime(decision["created_at"]),
        "hosts": [{"host": host, "node": node} for host, node in decision["hosts"] or []],
        "filters": decision["filters"] or [],
        "weights": decision["weights"] or [],
        "selected": selected,
    }


@blueprint.get("/servers/<server_id>/os-scheduler-explain")
def explain(server_id):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("os_compute_api:os-scheduler-explain", common.owned_by(instance))
    decisions = scheduling_db.scheduling_decisions_get(context, instance["uuid"])
    return jsonify({"attempts": [_attempt(decision) for decision in decisions]})

"""RPC messages: how requests, contexts and remote exceptions are encoded,
and one in-process round trip over kombu's memory:// transport."""

import json
import threading
from datetime import datetime

import pytest

from mininova import context as mn_context
from mininova import exception, rpc


def make_context():
    return mn_context.RequestContext(user_id="alice", project_id="proj1",
                                     roles=["member", "reader"], request_id="req-1234",
                                     overwrite=False)


# --- encoding ------------------------------------------------------------------

def test_a_cast_carries_method_args_and_context_only():
    body = rpc.encode_request(make_context(), "pause_instance", {"instance_uuid": "u1"})
    assert set(body) == {"method", "args", "context"}
    assert body["method"] == "pause_instance"
    assert body["args"] == {"instance_uuid": "u1"}
    assert body["context"]["request_id"] == "req-1234"


def test_a_call_also_carries_msg_id_and_reply_queue():
    body = rpc.encode_request(make_context(), "get_console_output", {}, msg_id="abc",
                              reply_to="reply_xyz")
    assert body["msg_id"] == "abc"
    assert body["reply_to"] == "reply_xyz"


def test_datetimes_in_args_become_iso_strings_at_any_depth():
    when = datetime(2024, 1, 2, 3, 4, 5)
    body = rpc.encode_request(make_context(), "m",
                              {"at": when, "rows": [{"updated_at": when}], "pair": (when, 1)})
    assert body["args"] == {"at": "2024-01-02T03:04:05",
                            "rows": [{"updated_at": "2024-01-02T03:04:05"}],
                            "pair": ["2024-01-02T03:04:05", 1]}
    json.dumps(body)   # the whole body is JSON-able


def test_context_round_trips_through_a_dict():
    restored = mn_context.RequestContext.from_dict(make_context().to_dict())
    assert restored.request_id == "req-1234"
    assert restored.user_id == "alice"
    assert restored.project_id == "proj1"
    assert restored.roles == ["member", "reader"]
    assert restored.is_admin is False


def test_admin_context_round_trips_as_admin():
    admin = mn_context.RequestContext(user_id="admin", project_id="p", roles=["admin"],
                                      overwrite=False)
    assert mn_context.RequestContext.from_dict(admin.to_dict()).is_admin is True


def test_our_exception_is_rebuilt_with_its_class_message_and_kwargs():
    failure = rpc.encode_failure(exception.InstanceNotFound(instance_id="u1"))
    rebuilt = rpc.decode_failure(json.loads(json.dumps(failure)))
    assert type(rebuilt) is exception.InstanceNotFound
    assert str(rebuilt) == "Instance u1 could not be found."
    assert rebuilt.kwargs == {"instance_id": "u1"}
    assert rebuilt.code == 404


def test_the_remote_traceback_travels_with_the_failure():
    try:
        raise exception.InstanceNotFound(instance_id="u1")
    except exception.InstanceNotFound as exc:
        failure = rpc.encode_failure(exc)
    rebuilt = rpc.decode_failure(failure)
    assert "Traceback (most recent call last)" in rebuilt.remote_traceback
    assert "InstanceNotFound: Instance u1 could not be found." in rebuilt.remote_traceback


def test_a_foreign_exception_becomes_remote_error():
    rebuilt = rpc.decode_failure(rpc.encode_failure(ValueError("boom")))
    assert type(rebuilt) is rpc.RemoteError
    assert str(rebuilt) == "Remote error: ValueError boom"


def test_a_class_of_the_same_name_from_another_module_is_not_trusted():
    failure = rpc.encode_failure(exception.InstanceNotFound(instance_id="u1"))
    failure["module"] = "somewhere.else"
    assert type(rpc.decode_failure(failure)) is rpc.RemoteError


# --- over memory:// (in process, no broker) ------------------------------------------

class Endpoint:
    NOT_RPC = frozenset()

    def __init__(self):
        self.cast_received = threading.Event()
        self.seen_request_id = None

    def echo(self, context, value):
        self.seen_request_id = context.request_id
        return {"value": value, "at": datetime(2024, 1, 2)}

    def fail(self, context, instance_id):
        raise exception.InstanceNotFound(instance_id=instance_id)

    def note(self, context):
        self.cast_received.set()


def test_call_and_cast_over_the_memory_transport(conf):
    # One server for the whole round trip: stopping one takes a quarter second.
    endpoint = Endpoint()
    server = rpc.RPCServer("unittest", "host1", [endpoint], executor_size=2)
    server.start()
    try:
        client = rpc.RPCClient("unittest", timeout=5)
        # call: the result comes back, JSON-encoded, and the context came along.
        assert client.call(make_context(), "echo", value=42) == {
            "value": 42, "at": "2024-01-02T00:00:00"}
        assert endpoint.seen_request_id == "req-1234"
        # call to one server: the remote exception is raised here.
        with pytest.raises(exception.InstanceNotFound,
                           match="Instance u9 could not be found."):
            client.prepare(server="host1").call(make_context(), "fail", instance_id="u9")
        # cast: no answer, but the method runs.
        client.cast(make_context(), "note")
        assert endpoint.cast_received.wait(5)
    finally:
        server.stop()


def test_call_nobody_listens_to_times_out(conf):
    # A fraction of a second keeps the unit tier fast; production uses 60 s.
    client = rpc.RPCClient("nobody-listens", timeout=0.2)
    with pytest.raises(rpc.MessagingTimeout, match="Timed out waiting for a reply"):
        client.call(make_context(), "echo", value=1)


def test_periodic_tasks_and_callbacks_are_not_rpc_methods(conf):
    from mininova.compute import manager as compute_manager

    server = rpc.RPCServer("compute", "host1", [compute_manager.ComputeManager("host1")],
                           transport=rpc.get_transport("memory://"))
    for name in ("update_available_resource", "handle_events", "seconds_until", "init_host"):
        with pytest.raises(exception.InvalidInput, match="has no RPC method"):
            server._find_method(name)
    assert server._find_method("stop_instance")

"""RPC messages: how requests, contexts and remote exceptions are encoded,
and one in-process round trip over kombu's memory:// transport."""

import json
import threading
import time
import uuid
from datetime import datetime

import kombu
import pytest

from mininova import context as mn_context
from mininova import exception, rpc
from mininova.rpc import consumer as rpc_consumer
from mininova.rpc import server as rpc_server
from mininova.rpc import transport as rpc_transport


def make_context():
    return mn_context.RequestContext(user_id="alice", project_id="proj1",
                                     roles=["member", "reader"], request_id="req-1234",
                                     overwrite=False)


# --- encoding ------------------------------------------------------------------

def test_a_cast_carries_method_args_context_and_its_unique_id_only():
    body = rpc.encode_request(make_context(), "pause_instance", {"instance_uuid": "u1"})
    assert set(body) == {"method", "args", "context", "unique_id"}
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
                              {"at": when, "rows": [{"updated_at": when}], "pair": (when, 1),
                               "names": {"a"}})
    # What travels: the body as the broker gets it, read back as a server does.
    received = rpc.loads(rpc.dumps(body).encode())
    assert received["args"] == {"at": "2024-01-02T03:04:05",
                                "rows": [{"updated_at": "2024-01-02T03:04:05"}],
                                "pair": ["2024-01-02T03:04:05", 1], "names": ["a"]}
    assert received["context"] == make_context().to_dict()


def test_what_json_has_no_type_for_comes_back_as_kombu_sent_it():
    # kombu's JSON encoder tagged a UUID so that its decoder rebuilds it;
    # mininova's encoding keeps doing that for what it does not turn into
    # strings itself.
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert rpc.loads(rpc.dumps({"id": value})) == {"id": value}


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


# --- call monitoring ---------------------------------------------------------------

class SlowEndpoint:
    NOT_RPC = frozenset()

    def work(self, context, seconds):
        threading.Event().wait(seconds)
        return "done"


def test_a_monitored_call_outlives_its_monitor_timeout_while_heartbeats_come(conf):
    server = rpc.RPCServer("slow", "host1", [SlowEndpoint()], executor_size=2)
    server.start()
    try:
        # The work takes five monitor timeouts; heartbeats every half of one.
        # A monitor timeout of 0.4 s, not less: the first heartbeat follows
        # the request's delivery and a worker thread's start, which on two
        # cores running the other xdist worker's tests took more than 0.2 s.
        client = rpc.RPCClient("slow", timeout=30, call_monitor_timeout=0.4)
        assert client.call(make_context(), "work", seconds=2.0) == "done"
    finally:
        server.stop()


def test_a_monitored_call_nobody_takes_gives_up_after_the_monitor_timeout(conf):
    client = rpc.RPCClient("nobody-listens", timeout=600, call_monitor_timeout=0.2)
    with pytest.raises(rpc.MessagingTimeout) as caught:
        client.call(make_context(), "select_destinations")
    assert caught.value.format_message().endswith(
        "nobody-listens did not answer select_destinations: no reply and no heartbeat "
        "for 0.2 s (is any mininova-nobody-listens running?)")


def test_an_unmonitored_call_says_how_long_it_waited(conf):
    client = rpc.RPCClient("nobody-listens", server="h1", timeout=0.2)
    with pytest.raises(rpc.MessagingTimeout,
                       match="nobody-listens.h1 did not answer echo within 0.2 s$"):
        client.call(make_context(), "echo")


def test_a_monitored_call_carries_its_monitor_timeout():
    body = rpc.encode_request(make_context(), "select_destinations", {}, msg_id="abc",
                              reply_to="reply_x", call_monitor_timeout=60)
    assert body["call_monitor_timeout"] == 60
    assert "call_monitor_timeout" not in rpc.encode_request(make_context(), "m", {},
                                                            msg_id="abc", reply_to="r")


def test_no_heartbeat_follows_the_reply(conf, caplog):
    server = rpc.RPCServer("slow", "host1", [SlowEndpoint()], executor_size=2)
    server.start()
    try:
        client = rpc.RPCClient("slow", timeout=30, call_monitor_timeout=0.1)
        assert client.call(make_context(), "work", seconds=0.3) == "done"
        threading.Event().wait(0.2)   # a late heartbeat would have arrived by now
    finally:
        server.stop()
    assert "No calling threads waiting" not in caplog.text


# --- durability, confirms, publishing while the broker is away ------------------------

def test_topic_and_host_queues_and_the_exchange_are_durable_fanout_is_not(conf):
    server = rpc.RPCServer("compute", "host1", [Endpoint()])
    topic, host, fanout = server._queues()
    assert server.transport.exchange.durable
    assert (topic.name, topic.durable, topic.auto_delete) == ("compute", True, False)
    assert (host.name, host.durable, host.auto_delete) == ("compute.host1", True, False)
    assert not fanout.durable and fanout.auto_delete


def test_casts_are_persistent_fanouts_and_replies_are_not(conf, monkeypatch):
    sent = []
    transport = rpc.get_transport()
    monkeypatch.setattr(transport, "publish",
                        lambda body, key, exchange=None, **kw: sent.append((key, kw)))
    client = rpc.RPCClient("compute", server="host1")
    client.cast(make_context(), "build_and_run_instance")
    client.prepare(fanout=True).cast(make_context(), "update_instance_info")
    assert sent[0][1]["persistent"] is True
    assert sent[1][1]["persistent"] is False


def test_the_memory_transport_has_no_confirms_rabbitmq_has():
    # kombu's memory:// has no broker: a publish is done when it returns.
    assert rpc.Transport("memory://", "mininova").confirms is False
    assert rpc.Transport("rabbit://guest:guest@127.0.0.1:5672/", "mininova").confirms is True


def test_a_broker_that_stays_away_fails_the_publish_loudly(conf, caplog):
    # Nothing listens on port 1 of the loopback: every connection is refused.
    transport = rpc.Transport("rabbit://guest:guest@127.0.0.1:1/", "mininova")
    with pytest.raises(rpc.MessageDeliveryFailure) as caught:
        transport.publish({"method": "m"}, "conductor", method="build_instances", timeout=1)
    assert caught.value.code == 503
    assert caught.value.format_message().startswith(
        "Could not send build_instances to conductor: the message broker was "
        "unreachable for 1 s (")
    assert "AMQP server on amqp://guest:**@127.0.0.1:1// is unreachable" in caplog.text


def test_the_api_bound_is_read_when_sending(conf, monkeypatch):
    seen = []
    transport = rpc.get_transport()
    monkeypatch.setattr(transport, "publish",
                        lambda body, key, exchange=None, **kw: seen.append(kw["timeout"]))
    client = rpc.RPCClient("conductor", publish_timeout=lambda: conf.api.rpc_publish_timeout)
    conf.set_override("rpc_publish_timeout", 7, "api")
    client.cast(make_context(), "schedule_and_build_instances")
    rpc.RPCClient("conductor").cast(make_context(), "build_instances")
    assert seen == [7, conf.rpc_publish_timeout]


def test_a_reply_whose_queue_is_missing_is_sent_again(conf, monkeypatch):
    server = rpc.RPCServer("unittest", "host1", [Endpoint()])
    attempts = []

    def publish(body, key, exchange=None, **kwargs):
        attempts.append(kwargs["mandatory"])
        if len(attempts) < 3:
            raise rpc.MessageUndeliverable(method="reply", target=key)

    monkeypatch.setattr(rpc_server, "MISSING_REPLY_QUEUE_RETRY", 0.01)
    monkeypatch.setattr(server.transport, "publish", publish)
    server._send_reply("reply_gone", {"msg_id": "abc", "result": 1})
    assert attempts == [True, True, True]


def test_a_second_copy_of_a_message_is_dropped(conf, caplog):
    endpoint = Endpoint()
    server = rpc.RPCServer("unittest", "host1", [endpoint])
    ran = []
    server._executor.submit = lambda function, body: ran.append(body["method"])

    class Message:
        def ack(self):
            pass

    body = rpc.encode_request(make_context(), "note", {})
    server._on_message(body, Message())
    server._on_message(dict(body), Message())    # the same message, published again
    server._on_message(rpc.encode_request(make_context(), "note", {}), Message())
    assert ran == ["note", "note"]
    assert "Dropping a second copy of note" in caplog.text
    server._executor.shutdown()


def test_publishes_keep_their_connections_channel_open(conf, monkeypatch):
    # A channel opened, put in confirm mode and closed per message would be
    # three more round trips to the broker for each (bench/rpc.py).
    opened = []
    original = kombu.Connection.channel

    def channel(self):
        opened.append(self)
        return original(self)

    monkeypatch.setattr(kombu.Connection, "channel", channel)
    transport = rpc.Transport("memory://", "unittest-publish")
    for _ in range(5):
        transport.publish({"method": "m"}, "nobody", method="m")
    assert len(opened) == 1


def test_a_returned_message_is_not_blamed_on_the_next_one(conf):
    transport = rpc.Transport("memory://", "unittest-returns")
    transport.publish({"method": "m"}, "nobody", method="m")
    publisher = transport._publishers.take(timeout=1)
    publisher.returned.append(Exception("returned earlier"))
    transport._publishers.give_back(publisher)
    transport.publish({"method": "m"}, "nobody", method="m", mandatory=True)


def _consuming_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith("rpc-consumer-") and t.is_alive()]


def test_a_process_consumes_all_its_servers_and_replies_on_one_connection(conf):
    # 1000 compute services in a few processes must not need 1000 broker
    # connections (RabbitMQ's file descriptors run out first).
    transport = rpc.Transport("memory://", "unittest-shared")
    first = rpc.RPCServer("shared", "host1", [Endpoint()], transport=transport)
    second = rpc.RPCServer("shared", "host2", [Endpoint()], transport=transport)
    first.start()
    second.start()
    try:
        assert len([t for t in _consuming_threads() if t.transport is transport]) == 1
        client = rpc.RPCClient("shared", timeout=5, transport=transport)
        assert client.prepare(server="host1").call(make_context(), "echo", value=1)
        # One server stops: the other one still answers, the stopped one not.
        first.stop()
        assert client.prepare(server="host2").call(make_context(), "echo", value=2)
        with pytest.raises(rpc.MessagingTimeout):
            client.prepare(server="host1", timeout=0.5).call(make_context(), "echo", value=3)
    finally:
        second.stop()
        transport.cleanup()
    assert not [t for t in _consuming_threads() if t.transport is transport]


def test_the_publishing_pool_lends_each_connection_to_one_thread_at_a_time(conf):
    transport = rpc.Transport("memory://", "unittest-pool")
    pool = rpc_transport._PublisherPool(transport.connection, limit=1)
    first = pool.take(timeout=1)
    # The only connection is lent: a second thread would wait, here in vain.
    with pytest.raises(TimeoutError, match="all 1 publishing connections stayed busy"):
        pool.take(timeout=0.05)
    pool.give_back(first)
    assert pool.take(timeout=1) is first       # given back, lent again
    # A connection that failed is closed, and the next loan is a new one.
    pool.discard(first)
    second = pool.take(timeout=1)
    assert second is not first
    pool.give_back(second)
    pool.close()


def test_a_publisher_declares_an_exchange_the_first_time_only(conf, monkeypatch):
    # kombu's maybe_declare per message (binding a copy of the exchange,
    # looking it up in a cache) was part of each publish's cost.
    asked = []
    original = kombu.Producer.publish

    def publish(self, body, **kwargs):
        asked.append([entity.name for entity in kwargs["declare"]])
        return original(self, body, **kwargs)

    monkeypatch.setattr(kombu.Producer, "publish", publish)
    transport = rpc.Transport("memory://", "unittest-declare")
    for _ in range(3):
        transport.publish({"method": "m"}, "nobody", method="m")
    assert asked == [["unittest-declare"], [], []]


def test_the_worker_pool_starts_a_worker_only_when_none_is_idle():
    pool = rpc_server._WorkerPool(4, "unittest-pool")
    done = threading.Event()
    pool.submit(done.set)
    assert done.wait(5)
    # The first worker is idle again: the next message is its, no new thread.
    deadline = time.monotonic() + 5
    while pool._idle != 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    second = threading.Event()
    pool.submit(second.set)
    assert second.wait(5)
    assert len(pool._threads) == 1
    # Busy workers: a message that finds none idle gets a new one.
    release = threading.Event()
    pool.submit(release.wait, 5)
    ran = threading.Event()
    pool.submit(ran.set)
    assert ran.wait(5)
    assert len(pool._threads) == 2
    release.set()
    pool.shutdown()
    assert not any(worker.is_alive() for worker in pool._threads)
    with pytest.raises(RuntimeError):
        pool.submit(print)


def test_a_kernel_receive_timeout_reads_as_a_timeout_to_py_amqp():
    # A blocking socket whose SO_RCVTIMEO ran out fails with EAGAIN; py-amqp
    # keeps a frame's bytes read so far only on a timeout.
    def recv(size):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    with pytest.raises(TimeoutError):
        rpc_consumer._recv_or_timeout(recv)(7)
    assert rpc_consumer._recv_or_timeout(lambda size: b"x" * size)(3) == b"xxx"

"""What travels: a message body as JSON, a request's fields, and a remote
exception in a reply (stands for ``serialize_remote_exception`` and
``deserialize_remote_exception`` of ``oslo_messaging/_drivers/common.py``,
the ``_msg_id``/``_reply_q``/``_unique_id`` fields that
``oslo_messaging/_drivers/amqpdriver.py`` adds to a message, and the JSON of
``oslo_serialization/jsonutils.py``).

The format of a message is in the package's docstring. Left out:
oslo.messaging's message envelope (``oslo.version``/``oslo.message``) and
serializers for versioned objects: a body is plain JSON.
"""

import json
import os
import traceback
from datetime import datetime

import kombu.utils.json

from mininova import exception
from mininova.rpc.exceptions import RemoteError


def _json_default(value):
    """What JSON has no type for: datetimes become ISO 8601 strings (a
    receiver gets text, as from oslo.messaging's JSON serializer), sets
    lists; anything else as
    kombu's JSON encoder sends it (a UUID, a Decimal), so that kombu's
    decoder on the other side rebuilds it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return list(value)
    return _KOMBU_JSON.default(value)


_KOMBU_JSON = kombu.utils.json.JSONEncoder()
# One encoder for every message (json.dumps with a default= makes one per call).
_ENCODER = json.JSONEncoder(default=_json_default)


def dumps(body):
    """A message body as JSON text, in one pass of the C encoder (the
    datetimes and sets in it too, through ``_json_default``)."""
    return _ENCODER.encode(body)


# One decoder for every message, with kombu's hook, which rebuilds what
# kombu's encoder tagged (see _json_default).
_DECODER = json.JSONDecoder(object_hook=kombu.utils.json.object_hook)


def loads(payload):
    """The body of a message (JSON, as bytes or text)."""
    if not isinstance(payload, str):
        payload = bytes(payload).decode("utf-8")
    return _DECODER.decode(payload)


def new_id():
    """A message's ``unique_id`` or a call's ``msg_id``: 128 random bits as
    32 hex digits, what ``uuid.uuid4().hex`` gives oslo.messaging, without
    building a UUID object for it (a fifth of the time, twice per call)."""
    return os.urandom(16).hex()


def encode_request(ctxt, method, args, msg_id=None, reply_to=None,
                   call_monitor_timeout=None):
    """The body of a cast (no msg_id) or a call. ``unique_id`` tells a second
    copy of the same message (a publish retried after its confirm was lost)
    from a new one (oslo.messaging's ``_unique_id``). Datetimes in ``args``
    become strings when the body is encoded (:func:`dumps`)."""
    body = {"method": method, "args": args, "context": ctxt.to_dict(),
            "unique_id": new_id()}
    if msg_id:
        body["msg_id"] = msg_id
        body["reply_to"] = reply_to
        if call_monitor_timeout:
            body["call_monitor_timeout"] = call_monitor_timeout
    return body


def encode_failure(exc):
    """How a remote exception travels back in a reply."""
    return {
        "class": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
        "kwargs": getattr(exc, "kwargs", {}),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def decode_failure(failure):
    """Rebuild our own exceptions by class name; wrap anything else."""
    cls = None
    if failure.get("module") == exception.__name__:
        cls = exception.by_name(failure["class"])
    if cls is not None:
        exc = cls(message=failure["message"], **failure.get("kwargs", {}))
    else:
        exc = RemoteError(exc_type=failure["class"], value=failure["message"])
    exc.remote_traceback = failure.get("traceback", "")
    return exc

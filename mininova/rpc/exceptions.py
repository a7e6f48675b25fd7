"""The errors a sender of RPC messages may see (stands for
``oslo_messaging/exceptions.py``, and ``RemoteError`` of
``oslo_messaging/rpc/client.py``).

They are mininova exceptions (``mininova/exception.py``): a message format
and the HTTP code the API answers with when one reaches it. Left out:
oslo.messaging's other exceptions (``InvalidTarget``, ``ClientSendError``,
``RPCVersionCapError``, ...), for what mininova does not have.
"""

from mininova import exception


class MessagingTimeout(exception.MininovaException):
    msg_fmt = "Timed out waiting for a reply to message ID %(msg_id)s: %(reason)s"
    code = 504
    safe = True


class MessageDeliveryFailure(exception.MininovaException):
    msg_fmt = ("Could not send %(method)s to %(target)s: the message broker was "
               "unreachable for %(seconds)s s (%(reason)s)")
    code = 503
    safe = True


class MessageUndeliverable(exception.MininovaException):
    """The broker returned a message no queue would take (mandatory publish)."""

    msg_fmt = "No queue takes %(method)s sent to %(target)s"
    code = 503


class RemoteError(exception.MininovaException):
    """An exception raised by the remote side that is not one of ours."""

    msg_fmt = "Remote error: %(exc_type)s %(value)s"

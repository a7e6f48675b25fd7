"""The network service's errors (mirrors ``neutron_lib/exceptions`` and
``neutron/ipam/exceptions.py``).

Neutron answers an error with ``{"NeutronError": {"type", "message",
"detail"}}``: ``type`` is the exception's class name, which clients match
on (openstacksdk raises ``ConflictException`` and shows the message), so
the class names and messages below are Neutron's. Each class says its HTTP
code; :mod:`mininova.network.api.app` makes the body.

Errors of request validation (an unknown attribute, a malformed CIDR) are
``HTTPBadRequest`` in Neutron, the name of the webob exception it raises:
:class:`HTTPBadRequest` here keeps that name.
"""


class NeutronException(Exception):
    """``message`` is a %-template filled with the keyword arguments."""

    message = "An unknown exception occurred."
    code = 500

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.message % kwargs
        self.msg = message
        super().__init__(message)

    def __str__(self):
        return self.msg


# --- the HTTP layer's own: type is the webob class name ---------------------

class HTTPBadRequest(NeutronException):
    code = 400


class HTTPNotFound(NeutronException):
    message = "The resource could not be found."
    code = 404


class HTTPUnauthorized(NeutronException):
    message = "Authentication required"
    code = 401


class HTTPMethodNotAllowed(NeutronException):
    code = 405


class PolicyNotAuthorized(NeutronException):
    """oslo.policy's refusal (Neutron lets it through with this name)."""

    message = "%(action)s is disallowed by policy"
    code = 403


# --- 400 -------------------------------------------------------------------

class BadRequest(NeutronException):
    message = "Bad %(resource)s request: %(msg)s."
    code = 400


class InvalidInput(BadRequest):
    message = "Invalid input for operation: %(error_message)s."


class InvalidIpForSubnet(BadRequest):
    message = "IP address %(ip_address)s is not a valid IP for the specified subnet."


class InvalidIpForNetwork(BadRequest):
    message = ("IP address %(ip_address)s is not a valid IP for any of the subnets "
               "on the specified network.")


class InvalidAllocationPool(BadRequest):
    message = "The allocation pool %(pool)s is not valid."


class OutOfBoundsAllocationPool(BadRequest):
    message = "The allocation pool %(pool)s spans beyond the subnet cidr %(subnet_cidr)s."


# --- 404 -------------------------------------------------------------------

class NotFound(NeutronException):
    code = 404


class NetworkNotFound(NotFound):
    message = "Network %(net_id)s could not be found."


class SubnetNotFound(NotFound):
    message = "Subnet %(subnet_id)s could not be found."


class PortNotFound(NotFound):
    message = "Port %(port_id)s could not be found."


class SecurityGroupNotFound(NotFound):
    message = "Security group %(id)s does not exist"


class SecurityGroupRuleNotFound(NotFound):
    message = "Security group rule %(id)s does not exist"


class ExtensionNotFound(NotFound):
    message = "Extension with alias %(alias)s does not exist"


# --- 409 -------------------------------------------------------------------

class Conflict(NeutronException):
    code = 409


class OverQuota(Conflict):
    message = "Quota exceeded for resources: %(overs)s."


class InUse(Conflict):
    message = "The resource is in use."


class NetworkInUse(InUse):
    message = "Unable to complete operation on network %(net_id)s. %(reason)s."

    def __init__(self, **kwargs):
        kwargs.setdefault("reason", "There are one or more ports still in use on the network")
        super().__init__(**kwargs)


class SubnetInUse(InUse):
    message = "Unable to complete operation on subnet %(subnet_id)s: %(reason)s."

    def __init__(self, **kwargs):
        kwargs.setdefault("reason", "One or more ports have an IP allocation from this subnet")
        super().__init__(**kwargs)


class PortInUse(InUse):
    message = ("Unable to complete operation on port %(port_id)s for network %(net_id)s. "
               "Port already has an attached device %(device_id)s.")


class PortBound(InUse):
    message = ("Unable to complete operation on port %(port_id)s, port is already bound, "
               "port type: %(vif_type)s, old_mac %(old_mac)s, new_mac %(new_mac)s.")


class InvalidSharedSetting(Conflict):
    message = ("Unable to reconfigure sharing settings for network %(network)s. "
               "Multiple tenants are using it.")


class MacAddressInUse(InUse):
    message = ("Unable to complete operation for network %(net_id)s. "
               "The mac address %(mac)s is in use.")


class IpAddressAlreadyAllocated(Conflict):
    message = "IP address %(ip)s already allocated in subnet %(subnet_id)s"


class IpAddressGenerationFailure(Conflict):
    message = "No more IP addresses available on network %(net_id)s."


class OverlappingAllocationPools(Conflict):
    message = ("Found overlapping allocation pools: %(pool_1)s %(pool_2)s for subnet "
               "%(subnet_cidr)s.")


class GatewayConflictWithAllocationPools(InUse):
    message = "Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s."


# --- 503 -------------------------------------------------------------------

class MacAddressGenerationFailure(NeutronException):
    message = "Unable to generate unique mac on network %(net_id)s."
    code = 503

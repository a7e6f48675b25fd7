"""The error answers of mininova-image's API.

A controller raises :class:`ImageApiError` with the HTTP code and a message
for the caller, where Glance's controllers raise ``webob.exc`` HTTP errors;
:mod:`.app` turns it into Glance's JSON error body,
``{"error": {"code": 404, "title": "Not Found", "message": "..."}}``.
"""


class ImageApiError(Exception):
    """An error answer: its HTTP code and a message for the caller."""

    def __init__(self, code, message):
        self.code = code
        self.message = message
        super().__init__(message)

"""Image data: the upload and download of an image's file (mirrors
``glance/api/v2/image_data.py``, its ``ImageDataController``). The routes
are in :mod:`.app`; the image records in :mod:`.images`.

An upload streams the request body to ``<store>/<id>.part`` 1 MiB at a time,
hashing it, then checks it (format inspector, then qemu-img: see
:mod:`.store`) before it is renamed into place and the image becomes
active. The status moves by
compare-and-swap, so two uploads to one image cannot both run, and an image
deleted mid-upload has its data thrown away (410, Glance's answer). waitress
(our WSGI server) buffers a request's body, to a temporary file past 512 KiB,
before calling us: a client that disconnects mid-upload never reaches this
code and its image stays queued, ready for another try. Under a server that
streams bodies to the application, a short body kills the image.

A download hands the file to the WSGI server (``wsgi.file_wrapper``) with its
``Content-MD5``; an image with no data (any status but active) answers 204
with no body, as Glance does.

The size limit, ``[image_service] image_size_cap``, is not checked here:
:mod:`mininova.cmd.image` gives it to waitress as its
``max_request_body_size``.

Left out: the image import API and tasks, and multiple stores.
"""

import os

from flask import Response, request
from oslo_log import log as logging
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import wrap_file

from mininova.image.service import models, store
from mininova.image.service.errors import ImageApiError
from mininova.image.service.images import get_owned_image, get_visible_image

LOG = logging.getLogger(__name__)


class ImageDataController:
    """Image data (mirrors ``glance/api/v2/image_data.py``)."""

    def __init__(self, engine, file_store):
        self.engine = engine
        self.store = file_store

    def upload(self, image_id):
        get_owned_image(self.engine, image_id, "upload data to")
        if request.mimetype != "application/octet-stream":
            raise ImageApiError(415, f"Unsupported Content-Type {request.mimetype!r}: "
                                     f"send image data as application/octet-stream.")
        saving = models.image_update(self.engine, image_id, {"status": models.SAVING},
                                     expected_status=models.QUEUED)
        if saving is None:
            current = get_visible_image(self.engine, image_id)["status"]
            raise ImageApiError(409, f"Image status transition from {current} to "
                                     f"saving is not allowed")
        # The disk_format as it was when the image became ``saving``: a PATCH
        # may change it only while the image is queued, so this is the one
        # the data will be checked against and stored under.
        disk_format = saving["disk_format"]
        LOG.info("Uploading image %s (%s)", image_id, disk_format)
        data, virtual_size = self._receive(image_id, disk_format)
        active = models.image_update(self.engine, image_id, {
            "status": models.ACTIVE,
            "size": data.size,
            "virtual_size": virtual_size,
            "checksum": data.checksum,
            "os_hash_algo": data.os_hash_algo,
            "os_hash_value": data.os_hash_value,
        }, expected_status=models.SAVING)
        if active is None:
            self.store.delete(image_id)
            raise ImageApiError(410, f"Image {image_id} could not be found after upload. "
                                     f"The image may have been deleted during the upload.")
        LOG.info("Image %s is active: %d bytes, virtual size %d bytes, checksum %s",
                 image_id, data.size, virtual_size, data.checksum)
        return Response(status=204)

    def _receive(self, image_id, disk_format):
        """Store and check the body; on any failure the image is killed."""
        try:
            data = self.store.write_partial(image_id, request.stream)
            virtual_size = store.inspect_disk(
                image_id, self.store.partial_path_for(image_id), disk_format, data.size)
            self.store.commit(image_id)
        except store.InvalidImageData as exc:
            self._kill(image_id, exc.reason)
            raise ImageApiError(400, f"Image {image_id} was rejected: {exc.reason}. Its "
                                     f"status is now killed: create a new image.") from exc
        except ClientDisconnected as exc:
            self._kill(image_id, "the client disconnected during the upload")
            raise ImageApiError(400, f"The upload of image {image_id} was cut short: "
                                     f"the client disconnected.") from exc
        except Exception as exc:
            self._kill(image_id, f"upload failed: {exc!r}")
            raise
        return data, virtual_size

    def _kill(self, image_id, reason):
        self.store.discard_partial(image_id)
        models.image_update(self.engine, image_id, {"status": models.KILLED, "fault": reason},
                            expected_status=models.SAVING)
        LOG.warning("Image %s killed: %s", image_id, reason)

    def download(self, image_id):
        image = get_visible_image(self.engine, image_id)
        if image["status"] != models.ACTIVE:
            # Glance's answer for an image that has no data (yet).
            return Response(status=204)
        try:
            image_file = self.store.open(image_id)
        except FileNotFoundError as exc:
            LOG.error("The file of active image %s is missing from the store: %s",
                      image_id, self.store.path_for(image_id))
            raise ImageApiError(500, f"The data of image {image_id} is missing from the "
                                     f"image store; ask the operator.") from exc
        size = os.fstat(image_file.fileno()).st_size
        # wrap_file hands the open file to the WSGI server (wsgi.file_wrapper),
        # which sends it straight from disk instead of through Python chunks.
        return Response(
            wrap_file(request.environ, image_file, store.CHUNK_SIZE),
            direct_passthrough=True,
            mimetype="application/octet-stream",
            headers={"Content-Length": str(size), "Content-MD5": image["checksum"]},
        )

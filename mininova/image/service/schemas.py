"""The JSON schemas of an image and of a list of images, served at
``GET /v2/schemas/image`` and ``GET /v2/schemas/images`` (mirrors
``glance/api/v2/schemas.py``, the image schema of ``glance/api/v2/images.py``
``get_base_properties``/``get_schema``, and ``glance/schema.py``'s
permissive and collection schemas).

Clients read them: python-glanceclient fetches ``/v2/schemas/image`` before
it shows, lists or creates an image (it builds its image model from the
schema), so without them ``glance image-show``, Rally's image lookups and
every tool built on glanceclient fail with a 404. The schema describes what
:func:`.images.image_view` returns: the statuses, visibilities and formats
mininova has, and custom properties as strings (``additionalProperties``), as
Glance's "permissive" image schema says.

Left out: the member, task and metadef schemas (mininova has none of these
resources), custom properties from a ``schema-image.json``, and the
``locations`` and ``stores`` fields (one local store). ``direct_url`` is
shown only with ``[image_service] show_image_direct_url``.
"""

from mininova.image.service import models, store

UUID_PATTERN = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$")
# Every status an image can be shown in (a deleted one only to the admin).
SHOWN_STATUSES = [models.QUEUED, models.SAVING, models.ACTIVE, models.KILLED, models.DELETED]
VISIBILITIES = ["public", "private"]
MAX_NAME_LENGTH = 255


def _nullable(kind, description, **more):
    return {"type": ["null", kind], "description": description, **more}


def _read_only(kind, description, **more):
    return {"type": kind, "readOnly": True, "description": description, **more}


def image_properties():
    """The fields of an image, as Glance's ``get_base_properties`` types them."""
    return {
        "id": {"type": "string", "description": "An identifier for the image",
               "pattern": UUID_PATTERN},
        "name": _nullable("string", "Descriptive name for the image",
                          maxLength=MAX_NAME_LENGTH),
        "status": _read_only("string", "Status of the image", enum=SHOWN_STATUSES),
        "visibility": {"type": "string", "description": "Scope of image accessibility",
                       "enum": VISIBILITIES},
        "protected": {"type": "boolean",
                      "description": "If true, image will not be deletable."},
        "checksum": _nullable("string", "md5 hash of image contents.", readOnly=True,
                              maxLength=32),
        "os_hash_algo": _nullable("string", "Algorithm to calculate the os_hash_value",
                                  readOnly=True, maxLength=64),
        "os_hash_value": _nullable("string", "Hexdigest of the image contents using the "
                                   "algorithm specified by the os_hash_algo",
                                   readOnly=True, maxLength=128),
        "owner": _nullable("string", "Owner of the image", maxLength=MAX_NAME_LENGTH),
        "size": _nullable("integer", "Size of image file in bytes", readOnly=True),
        "virtual_size": _nullable("integer", "Virtual size of image in bytes",
                                  readOnly=True),
        "container_format": _nullable("string", "Format of the container",
                                      enum=[None, *store.CONTAINER_FORMATS]),
        "disk_format": _nullable("string", "Format of the disk",
                                 enum=[None, *store.DISK_FORMATS]),
        "created_at": _read_only("string", "Date and time of image registration"),
        "updated_at": _read_only("string", "Date and time of the last image modification"),
        "tags": {"type": "array", "description": "List of strings related to the image",
                 "items": {"type": "string", "maxLength": MAX_NAME_LENGTH}},
        "min_ram": {"type": "integer",
                    "description": "Amount of ram (in MB) required to boot image."},
        "min_disk": {"type": "integer",
                     "description": "Amount of disk space (in GB) required to boot image."},
        "self": _read_only("string", "An image self url"),
        "file": _read_only("string", "An image file url"),
        "direct_url": _read_only("string",
                                 "URL to access the image file kept in external store"),
        "schema": _read_only("string", "An image schema url"),
    }


def image_schema():
    """Glance's permissive schema: any other key is a custom property, a string."""
    return {
        "name": "image",
        "properties": image_properties(),
        "additionalProperties": {"type": "string"},
        "links": [{"rel": "self", "href": "{self}"},
                  {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def images_schema():
    """A list of images, as Glance's ``CollectionSchema`` wraps the image's."""
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema()},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "first", "href": "{first}"},
                  {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }

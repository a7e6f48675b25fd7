"""Images: the Glance-like service and the client the other services use.

- :mod:`mininova.image.glance` is the client (mirrors ``nova/image/glance.py``):
  what the API and the compute hosts call to show, list, create, upload,
  download and delete images.
- :mod:`mininova.image.service` is ``mininova-image`` itself, a small subset of
  Glance's v2 API with a file store, standing in for the separate OpenStack
  project so that mininova boots real images without installing Glance.
"""

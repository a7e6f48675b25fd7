"""Block storage: mininova's Cinder, and Nova's side of it.

- :mod:`mininova.volume.service`: **mininova-volume**, the service that
  stands for Cinder (cinder-api and cinder-volume in one process): raw
  file volumes, snapshots, volume types and the attachments API, volumes
  exported to compute hosts over NBD by qemu-storage-daemon;
- :mod:`mininova.volume.cinder`: the client Nova's services use to talk to
  it (mirrors ``nova/volume/cinder.py``).

docs/volumes.md tells the whole story: the API, the attach and detach
flows as Nova's compute drives them, and a tour of the files and processes.
"""

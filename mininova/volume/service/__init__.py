"""mininova-volume: a Cinder-like block storage service (stands for
cinder-api and cinder-volume, with one backend, in one process).

Read in this order, as a request travels:

- :mod:`.app`: the Flask application: routes, identity, microversions,
  request ids, fault bodies (``cinder/api/openstack/wsgi.py``, ``v3/router.py``);
- :mod:`.microversions`: 3.0 to 3.48 and what each one changes here;
- :mod:`.volumes`, :mod:`.volume_actions`, :mod:`.snapshots`,
  :mod:`.types`, :mod:`.attachments`: the REST controllers
  (``cinder/api/v3/*.py``, ``cinder/api/contrib/*.py``), with
  :mod:`.views` for the JSON they answer and :mod:`.common` for what they share;
- :mod:`.api`: the checks, policy and status changes behind every request
  (``cinder/volume/api.py``), with :mod:`.policies` (``cinder/policies/``)
  and :mod:`.volume_types` (``cinder/volume/volume_types.py``);
- :mod:`.manager`: the work on the storage, in the background
  (``cinder/volume/manager.py``), through
- :mod:`.driver`: raw, sparse volume files (Cinder's file drivers),
  :mod:`.image_utils`: an image written into a volume
  (``cinder/image/image_utils.py``), and
  :mod:`.nbd`: one qemu-storage-daemon export per attachment (Cinder's
  ``cinder/volume/targets/``);
- :mod:`.models`: the five tables (``cinder/db/sqlalchemy/models.py``), :mod:`.db`: their
  queries (``cinder/db/sqlalchemy/api.py``),
  :mod:`.fields`: the statuses (``cinder/objects/fields.py``),
  :mod:`.exception`: the errors and their messages (``cinder/exception.py``).

``mininova.cmd.volume`` serves the application with waitress;
``mininova-all`` starts it in-process with the other services.
"""

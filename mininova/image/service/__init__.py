"""mininova-image: a Glance-v2-like image service (stands for Glance's API).

- :mod:`.models`: the ``images`` table and its queries (Glance's
  ``glance/db/sqlalchemy/models.py`` and ``api.py``);
- :mod:`.store`: the file store and the check of uploaded disk images
  (``glance_store``'s filesystem driver, Glance's format inspection);
- :mod:`.app`: the HTTP API as a Flask application (``glance/api/v2/``).

``mininova.cmd.image`` serves the app with waitress; ``mininova-all`` builds it
with :func:`mininova.image.service.app.create_app` and serves it in-process.
"""

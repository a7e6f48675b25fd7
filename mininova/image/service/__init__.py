"""mininova-image: a Glance-v2-like image service (stands for Glance's API).

- :mod:`.models`: the ``images`` table and its queries (Glance's
  ``glance/db/sqlalchemy/models.py`` and ``api.py``);
- :mod:`.store`: the file store and the check of uploaded disk images
  (``glance_store``'s filesystem driver, Glance's format inspection);
- :mod:`.app`: the Flask application: routes, request ids, auth, the
  access log and error answers (``glance/api/v2/router.py`` and middleware);
- :mod:`.images`: the image records: create, list, show, PATCH, delete
  (``glance/api/v2/images.py``);
- :mod:`.image_data`: upload and download of an image's bytes
  (``glance/api/v2/image_data.py``);
- :mod:`.errors`: the error the controllers raise for an HTTP answer.

``mininova.cmd.image`` serves the app with waitress; ``mininova-all`` builds it
with :func:`mininova.image.service.app.create_app` and serves it in-process.
"""

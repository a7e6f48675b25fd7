"""Who the ``mininova`` command speaks as, and where the cloud is (mirrors
novaclient's use of keystoneauth1 and ``openstack.config``'s clouds.yaml).

With Keystone, as every OpenStack client: the usual ``OS_*`` variables
(``source /etc/mininova/openrc admin``) or ``--os-cloud <name>`` from a
``clouds.yaml`` (``OS_CLIENT_CONFIG_FILE``, ``./clouds.yaml``,
``~/.config/openstack/clouds.yaml``, ``/etc/openstack/clouds.yaml``, and
``/etc/mininova/clouds.yaml``). A password session gets a token and the
service catalog, which gives the compute and image endpoints.

Without (noauth2: mininova-all, the functional tests): ``MININOVA_TOKEN``
(``<user>:<project>``) and the URLs ``MININOVA_COMPUTE_URL`` and
``MININOVA_IMAGE_URL``. An explicit URL wins over the catalog either way.
"""

import os

from keystoneauth1 import loading, session

DEFAULT_COMPUTE_URL = "http://127.0.0.1:8774/v2.1"
DEFAULT_IMAGE_URL = "http://127.0.0.1:9292"
CLOUDS_FILES = ("clouds.yaml", "~/.config/openstack/clouds.yaml",
                "/etc/openstack/clouds.yaml", "/etc/mininova/clouds.yaml")
# OS_* variables and the password plugin's option names.
AUTH_VARIABLES = {"auth_url": "OS_AUTH_URL", "username": "OS_USERNAME",
                  "password": "OS_PASSWORD", "project_name": "OS_PROJECT_NAME",
                  "user_domain_name": "OS_USER_DOMAIN_NAME",
                  "project_domain_name": "OS_PROJECT_DOMAIN_NAME"}


class AuthError(Exception):
    pass


def endpoints_and_token(cloud=None, compute_url=None, image_url=None, token=None,
                        environ=os.environ):
    """``(compute URL, image URL, token)`` for the client."""
    auth, region, interface = _keystone_auth(cloud, environ)
    if auth is None:
        return (compute_url or DEFAULT_COMPUTE_URL, image_url or DEFAULT_IMAGE_URL,
                token or "admin:admin")
    keystone = session.Session(auth=loading.get_plugin_loader("password").load_from_options(
        **auth))
    token = keystone.get_token()

    def endpoint(service_type):
        return keystone.get_endpoint(service_type=service_type, interface=interface,
                                     region_name=region)
    return compute_url or endpoint("compute"), image_url or endpoint("image"), token


def _keystone_auth(cloud, environ):
    """The password plugin's options, region and interface; None, None,
    None when no Keystone is named."""
    if cloud:
        entry = _cloud_entry(cloud, environ)
        return (_domain_defaults(dict(entry["auth"])), entry.get("region_name"),
                entry.get("interface", "public"))
    if environ.get("OS_CLOUD"):
        return _keystone_auth(environ["OS_CLOUD"], {k: v for k, v in environ.items()
                                                     if k != "OS_CLOUD"})
    if not environ.get("OS_AUTH_URL"):
        return None, None, None
    auth = {option: environ[variable] for option, variable in AUTH_VARIABLES.items()
            if environ.get(variable)}
    return (_domain_defaults(auth), environ.get("OS_REGION_NAME"),
            environ.get("OS_INTERFACE", "public"))


def _domain_defaults(auth):
    auth.setdefault("user_domain_name", "Default")
    auth.setdefault("project_domain_name", "Default")
    return auth


def _cloud_entry(name, environ):
    import yaml

    paths = [environ["OS_CLIENT_CONFIG_FILE"]] if environ.get("OS_CLIENT_CONFIG_FILE") else []
    for path in paths + [os.path.expanduser(p) for p in CLOUDS_FILES]:
        try:
            with open(path) as f:
                clouds = (yaml.safe_load(f) or {}).get("clouds", {})
        except OSError:
            continue
        if name in clouds:
            return clouds[name]
    raise AuthError(f"cloud {name!r} is in no clouds.yaml (looked in "
                    f"{', '.join(paths + list(CLOUDS_FILES))})")

"""Rules of key pairs (mirrors ``nova/policies/keypairs.py``): a key pair is
its user's, so the check is on the user, not the project."""

from mininova.policies.base import OWNER_USER_OR_ADMIN, rule

rules = [rule(f"os_compute_api:os-keypairs:{action}", OWNER_USER_OR_ADMIN,
              f"{action.capitalize()} one's own key pairs (an admin: anyone's).")
         for action in ("index", "create", "show", "delete")]

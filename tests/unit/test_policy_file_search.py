"""mininova.policy.Enforcer: oslo.policy searches the configuration
directories for a policy file at every check; "not found" is believed for
a second, and a file added is taken up after it."""

from mininova import context, policy


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def test_a_missing_policy_file_is_looked_for_at_most_once_a_second(conf, monkeypatch):
    searched, present = [], {}

    def find_file(name):
        searched.append(name)
        return present.get(name)

    clock = Clock()
    monkeypatch.setattr(conf, "find_file", find_file)
    monkeypatch.setattr(policy.time, "monotonic", clock)
    admin = context.RequestContext(user_id="admin", project_id="admin", roles=["admin"])

    policy.authorize(admin, "os_compute_api:servers:index")
    first = list(searched)
    assert "policy.yaml" in first  # the file and policy.d, once each
    for _ in range(5):
        policy.authorize(admin, "os_compute_api:servers:index")
    assert searched == first

    clock.now += policy.POLICY_FILE_SEARCH_INTERVAL + 0.1
    policy.authorize(admin, "os_compute_api:servers:index")
    assert searched == first + first

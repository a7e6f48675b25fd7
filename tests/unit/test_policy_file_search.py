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


def test_without_a_file_the_defaults_are_not_walked_again_at_every_check(conf, monkeypatch):
    from oslo_policy import policy as oslo_policy

    walks = []
    real_load = oslo_policy.Enforcer.load_rules

    def counting_load(self, force_reload=False):
        walks.append(force_reload)
        return real_load(self, force_reload)

    clock = Clock()
    monkeypatch.setattr(conf, "find_file", lambda name: None)
    monkeypatch.setattr(policy.time, "monotonic", clock)
    monkeypatch.setattr(oslo_policy.Enforcer, "load_rules", counting_load)
    admin = context.RequestContext(user_id="admin", project_id="admin", roles=["admin"])

    policy.authorize(admin, "os_compute_api:servers:index")
    assert len(walks) == 1
    for _ in range(5):
        policy.authorize(admin, "os_compute_api:servers:show")
    assert len(walks) == 1

    # A rule registered later is added by the next check's walk...
    policy.get_enforcer().register_default(
        oslo_policy.RuleDefault("test:late", "role:admin"))
    policy.authorize(admin, "test:late")
    assert len(walks) == 2

    # ...and once the "not found" is old, the files are looked for again.
    clock.now += policy.POLICY_FILE_SEARCH_INTERVAL + 0.1
    policy.authorize(admin, "os_compute_api:servers:index")
    assert len(walks) == 3


def test_a_policy_file_that_appears_is_still_obeyed(conf, monkeypatch, tmp_path):
    clock = Clock()
    monkeypatch.setattr(policy.time, "monotonic", clock)
    present = {}
    monkeypatch.setattr(conf, "find_file", lambda name: present.get(name))
    member = context.RequestContext(user_id="u", project_id="p", roles=["reader"])
    target = {"project_id": "p"}
    assert policy.check(member, "os_compute_api:servers:show", target)

    rules = tmp_path / "policy.yaml"
    rules.write_text('"os_compute_api:servers:show": "role:admin"\n')
    present["policy.yaml"] = str(rules)
    clock.now += policy.POLICY_FILE_SEARCH_INTERVAL + 0.1
    assert not policy.check(member, "os_compute_api:servers:show", target)

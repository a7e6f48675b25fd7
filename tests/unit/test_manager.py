"""Periodic tasks: spacing by number or option name, off at zero."""

from mininova import manager


class Counting(manager.Manager):
    def __init__(self):
        super().__init__("host1")
        self.runs = []

    @manager.periodic_task(spacing="image_cache.manager_interval")
    def by_group_option(self, context):
        self.runs.append("group")

    @manager.periodic_task(spacing="report_interval")
    def by_default_option(self, context):
        self.runs.append("default")


def test_tasks_wait_one_spacing_then_run(conf, monkeypatch):
    conf.set_override("manager_interval", 5, "image_cache")
    conf.set_override("report_interval", 10)
    clock = [100.0]
    monkeypatch.setattr(manager.time, "monotonic", lambda: clock[0])
    counting = Counting()
    counting.run_periodic_tasks(None)
    assert counting.runs == []
    clock[0] = 106.0
    counting.run_periodic_tasks(None)
    assert counting.runs == ["group"]
    assert counting.seconds_until("by_group_option") == 5.0
    clock[0] = 111.0
    counting.run_periodic_tasks(None)
    assert sorted(counting.runs) == ["default", "group", "group"]


def test_zero_spacing_turns_a_task_off(conf, monkeypatch):
    conf.set_override("manager_interval", 0, "image_cache")
    clock = [100.0]
    monkeypatch.setattr(manager.time, "monotonic", lambda: clock[0])
    counting = Counting()
    counting.run_periodic_tasks(None)
    clock[0] = 10_000.0
    counting.run_periodic_tasks(None)
    assert "group" not in counting.runs
    assert counting.seconds_until("by_group_option") is None

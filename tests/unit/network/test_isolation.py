"""The forwarding-drop rules' shape (mininova/network/linux/isolation.py);
the integration tier reads them back from the kernel."""

from mininova.network.linux import isolation


def test_rules_drop_routing_from_and_to_the_bridge_only():
    rules = isolation.rule_specs("brq2d843616-4a")
    assert rules[0][:5] == ["-i", "brq2d843616-4a", "!", "-o", "brq2d843616-4a"]
    assert rules[1][:5] == ["-o", "brq2d843616-4a", "!", "-i", "brq2d843616-4a"]
    for rule in rules:
        assert rule[-2:] == ["-j", "DROP"]
        assert "mininova-network: isolate brq2d843616-4a" in rule

"""ImagePropertiesFilter (mirrors ``nova/scheduler/filters/image_props_filter.py``).

An image may say what it needs: ``hw_architecture`` (x86_64, i686, ...),
``img_hv_type`` (qemu, kvm, fake) and ``hw_vm_mode`` (hvm). A host reports
``supported_instances``: the (architecture, hypervisor type, vm mode) triples
it can run. The host passes when one triple matches everything the image
asks for; an image that asks for nothing fits anywhere.
"""

from mininova.scheduler import filters

# Spellings of one architecture, as Nova canonicalises them.
_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "i386": "i686", "i486": "i686",
                 "i586": "i686", "x86": "i686", "arm64": "aarch64"}


def canonical_arch(arch):
    arch = (arch or "").lower()
    return _ARCH_ALIASES.get(arch, arch)


class ImagePropertiesFilter(filters.BaseHostFilter):
    run_filter_once_per_request = True

    def needed_for(self, spec):
        return _wanted(spec) != (None, None, None)

    def host_passes(self, host_state, spec):
        wanted = _wanted(spec)
        if wanted == (None, None, None):
            return filters.Verdict.ok("image asks for no architecture or hypervisor")
        supported = host_state.stats.get("supported_instances") or []
        for arch, hv_type, vm_mode in supported:
            offered = (canonical_arch(arch), hv_type.lower(), vm_mode.lower())
            pairs = zip(wanted, offered, strict=True)
            if all(want is None or want == have for want, have in pairs):
                return filters.Verdict.ok(f"supports {'/'.join(offered)}")
        asked = ", ".join(f"{name}={value}" for name, value in zip(
            ("hw_architecture", "img_hv_type", "hw_vm_mode"), wanted, strict=True) if value)
        offers = "; ".join("/".join(triple) for triple in supported) or "nothing"
        return filters.Verdict.fail(f"image needs {asked}; host supports {offers}")


def _wanted(spec):
    """(architecture, hypervisor type, vm mode) the image asks for, None each
    where it asks nothing."""
    image = spec.get("image") or {}
    return (canonical_arch(image.get("hw_architecture")) or None,
            (image.get("img_hv_type") or "").lower() or None,
            (image.get("hw_vm_mode") or "").lower() or None)

"""How a flavor extra spec's value is compared with what a host reports
(mirrors ``nova/scheduler/filters/extra_specs_ops.py``).

A requirement is ``[<op>] <value>``:

    "16"            numeric: host value >= 16 (a bare number means "at least")
    "= 16"          same, written out
    "== 16", "!= 16", ">= 16", "<= 16"           numeric comparisons
    "s== x86_64", "s!= kvm", "s>= b", "s<= b", "s< b", "s> b"   string comparisons
    "<in> avx2"     the host's value contains the substring
    "<all-in> a b"  the host's list contains all of them
    "<or> kvm <or> qemu"   equal to any alternative
    "x86_64"        anything else: the strings are equal
"""

import operator

_NUMERIC = {
    "=": operator.ge,  # Nova's choice: "=" on numbers means "at least"
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
}
_STRING = {
    "s==": operator.eq,
    "s!=": operator.ne,
    "s>=": operator.ge,
    "s<=": operator.le,
    "s<": operator.lt,
    "s>": operator.gt,
}


def match(host_value, requirement):
    words = str(requirement).split()
    if not words:
        return str(host_value) == ""
    op, rest = words[0], words[1:]
    if op == "<or>":
        alternatives = [w for w in words if w != "<or>"]
        return str(host_value) in alternatives
    if op == "<in>" and rest:
        return rest[0] in str(host_value)
    if op == "<all-in>" and rest:
        values = host_value if isinstance(host_value, (list, tuple, set)) else \
            str(host_value).split()
        return all(item in values for item in rest)
    if op in _STRING and rest:
        return _STRING[op](str(host_value), rest[0])
    if op in _NUMERIC and rest:
        return _compare_numbers(_NUMERIC[op], host_value, rest[0])
    if len(words) == 1 and _is_number(op):
        return _compare_numbers(operator.ge, host_value, op)
    return str(host_value) == str(requirement)


def _compare_numbers(compare, host_value, wanted):
    try:
        return compare(float(host_value), float(wanted))
    except (TypeError, ValueError):
        return False


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True

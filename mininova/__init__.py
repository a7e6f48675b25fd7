"""mininova: OpenStack Nova made small enough to read, real enough to boot a VM.

Every module mirrors the Nova module of the same name; its docstring says
which one and what it leaves out on purpose.
"""

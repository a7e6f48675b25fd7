"""docs/READING.md stays true to the code.

The reading order names code as ``path/to/file.py:Class.method`` inside
backticks (a bare ``path`` for a file or a directory). Every such reference
must name a file that exists and, when it has a name part, something
defined in that file: a function, a class, a method, a function defined
inside another (``outer.inner``), or a name assigned at module or class
level. The files are parsed with :mod:`ast`, never imported, so this stays
a unit test without I/O beyond reading them.

The log lines the page quotes after "Logs:" must be in the code too, as
(part of) a string literal of a ``mininova/`` module.
"""

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READING = ROOT / "docs" / "READING.md"

# A code span that starts like one of these is meant as a reference.
PREFIXES = ("mininova/", "bin/", "tools/", "tests/", "docs/", "etc/", "bench/")
REFERENCE = re.compile(
    r"(?P<path>(?:mininova|bin|tools|tests|docs|etc|bench)/[\w./-]*)"
    r"(?::(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))?"
)
FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`]+)`")
LOGS_PARAGRAPH = re.compile(r"^Logs:(.*?)(?:\n\s*\n|\Z)", re.MULTILINE | re.DOTALL)

# An emptied or gutted page must fail, not pass with nothing to check.
MIN_NAMED_REFERENCES = 25
MIN_LOG_LINES = 25


def _text_outside_fences():
    return FENCED_BLOCK.sub("", READING.read_text(encoding="utf-8"))


def _code_spans(text):
    return [" ".join(span.split()) for span in CODE_SPAN.findall(text)]


def _references():
    """``(span, path, name or None)`` of every reference on the page."""
    references = []
    for span in _code_spans(_text_outside_fences()):
        if not span.startswith(PREFIXES):
            continue
        match = REFERENCE.fullmatch(span)
        references.append((span, match and match["path"], match and match["name"]))
    return references


@functools.cache
def _parsed(path):
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)


def _definitions(node):
    """What ``node``'s body defines: functions, classes and assigned names,
    including those inside ``if``/``try``/``with``/... blocks of the body,
    but not inside other functions or classes."""
    found = {}
    pending = [child for child in ast.iter_child_nodes(node)
               if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case))]
    while pending:
        child = pending.pop(0)
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.setdefault(child.name, child)
            continue
        if isinstance(child, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = child.targets if isinstance(child, ast.Assign) else [child.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        found.setdefault(name.id, child)
            continue
        pending.extend(grandchild for grandchild in ast.iter_child_nodes(child)
                       if isinstance(grandchild,
                                     (ast.stmt, ast.excepthandler, ast.match_case)))
    return found


def _undefined(path, dotted_name):
    """None if ``dotted_name`` is defined in ``path``; else what is missing."""
    node = _parsed(path)
    walked = []
    for part in dotted_name.split("."):
        if walked and not isinstance(node, (ast.ClassDef, ast.FunctionDef,
                                            ast.AsyncFunctionDef)):
            return f"{'.'.join(walked)} is not a class or function, it has no {part}"
        node = _definitions(node).get(part)
        if node is None:
            where = ".".join(walked) or "the module"
            return f"{part} is not defined in {where}"
        walked.append(part)
    return None


def test_every_reference_names_code_that_exists():
    problems = []
    for span, path, name in _references():
        if path is None:
            problems.append(f"`{span}`: not a reference of the form path or path:Name.attr")
        elif not (ROOT / path).exists():
            problems.append(f"`{span}`: {path} does not exist")
        elif path.endswith("/") != (ROOT / path).is_dir():
            problems.append(f"`{span}`: write a directory with a final /, a file without")
        elif name is not None:
            if not path.endswith(".py"):
                problems.append(f"`{span}`: only a Python file can have a :name part")
                continue
            missing = _undefined(path, name)
            if missing:
                problems.append(f"`{span}`: {missing}")
    problems = list(dict.fromkeys(problems))  # a reference cited twice, said once
    assert not problems, "docs/READING.md is out of date:\n" + "\n".join(problems)


def test_the_page_names_enough_functions():
    named = {(path, name) for _span, path, name in _references() if name}
    assert len(named) >= MIN_NAMED_REFERENCES, (
        f"docs/READING.md names only {len(named)} path:name references")


@functools.cache
def _string_literals():
    """Every string literal of the mininova package, one per line (implicit
    concatenations are already joined by the parser)."""
    literals = []
    for path in sorted((ROOT / "mininova").rglob("*.py")):
        for node in ast.walk(_parsed(str(path.relative_to(ROOT)))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.append(" ".join(node.value.split()))
    return "\n".join(literals)


def _quoted_log_lines():
    lines = []
    for paragraph in LOGS_PARAGRAPH.findall(_text_outside_fences()):
        lines.extend(_code_spans(paragraph))
    return lines


def test_quoted_log_lines_are_in_the_code():
    quoted = _quoted_log_lines()
    assert len(quoted) >= MIN_LOG_LINES, f"docs/READING.md quotes only {len(quoted)} log lines"
    literals = _string_literals()
    missing = [line for line in quoted if "\n" in line or line not in literals]
    assert not missing, ("log lines quoted in docs/READING.md that no string literal of "
                         "mininova/ contains:\n" + "\n".join(missing))


def test_the_entry_documents_link_to_the_reading_order():
    for document in ("README.md", "docs/ARCHITECTURE.md"):
        text = (ROOT / document).read_text(encoding="utf-8")
        assert "READING.md" in text, f"{document} no longer links to docs/READING.md"

"""Find filter and weigher classes (mirrors ``nova/loadables.py``).

A config entry is either an import path to a class (``mypkg.MyFilter``) or
to a function returning classes (``mininova.scheduler.filters.all_filters``).
A path that does not import stops the scheduler at start, with its name.
"""

import importlib
import inspect
import pkgutil

from mininova import utils


class LoadError(Exception):
    pass


def classes_in_package(package, base_class):
    """Every subclass of ``base_class`` defined in ``package``'s modules."""
    found = []
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, base_class) and obj is not base_class \
                    and obj.__module__ == module.__name__ and not obj.__name__.startswith("Base"):
                found.append(obj)
    return sorted(found, key=lambda cls: cls.__name__)


def load_classes(paths, base_class):
    classes = []
    for path in paths:
        try:
            obj = utils.import_class(path)
        except (ImportError, AttributeError, ValueError) as exc:
            raise LoadError(f"Cannot import {path!r}: {exc}") from exc
        if inspect.isclass(obj):
            if not issubclass(obj, base_class):
                raise LoadError(f"{path!r} is not a {base_class.__name__}")
            classes.append(obj)
        else:
            classes.extend(obj())
    return classes

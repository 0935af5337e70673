"""Stand-in for xlwings Lite's ``xlwings`` inside the Pyodide test (Lite always brings its own; it is not on PyPI as
a Pyodide wheel here). The decorators record what they were given, as the CPython tests' stand-in does."""

SEEN = {"func": [], "arg": [], "script": []}


def func(f=None, **options):
    def mark(fn):
        fn.__lite_func__ = options
        SEEN["func"].append(fn.__name__)
        return fn
    return mark(f) if f is not None else mark


def arg(name, *converter, **options):
    def mark(fn):
        fn.__dict__.setdefault("__lite_args__", {})[name] = options
        SEEN["arg"].append((fn.__name__, name))
        return fn
    return mark


def script(f=None, **options):
    def mark(fn):
        fn.__lite_script__ = options
        SEEN["script"].append(fn.__name__)
        return fn
    return mark(f) if f is not None else mark


class Book:
    pass

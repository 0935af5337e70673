"""Write the ``xlwings_udfs`` VBA module — the classic xlwings UDF wrappers — without Excel.

In Excel, xlwings' "Import Functions" button imports the UDF modules named in ``xlwings.conf`` and writes
one VBA function per ``@xw.func`` into a module ``xlwings_udfs`` (``xlwings/udfs.py``:
``import_udfs`` → ``generate_vba_wrapper``). Without those wrappers a formula such as ``=CREDIT_LIMIT(A2)``
shows ``#NAME?``. This module writes the same text on any platform, so the built workbook works in Excel
right after opening:

* :func:`collect` imports a Python module with recording stand-ins for ``xw.func``/``xw.arg``/``xw.ret``/
  ``xw.sub``/``xw.script`` (on Linux and macOS xlwings makes those no-ops), which record what xlwings'
  Windows decorators record (``__xlfunc__``: name, arguments, optional ones, ``vba=`` overrides,
  ``volatile``, ``call_in_wizard``, Sub or Function) — including their quirk that a later ``xw.arg``/``xw.ret``
  resets the function options, so ``@xw.func(volatile=True)`` must be the outermost decorator, as in xlwings.
* :func:`wrapper_module` writes the module text exactly as ``generate_vba_wrapper`` does (same order —
  ``dir(module)`` —, indentation, ``#If App`` blocks, ``XLPy.CallUDF(...)``, the ``failed:`` label,
  ``ParamArray`` handling and 1024-character line splitting), with CRLF line ends as Excel stores them.

Names are checked as VBA and Excel need them: a valid VBA identifier, not a VBA keyword, not shaped like a
cell reference (``AGE30``), not clashing with another public procedure of the project.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = ["VBA_KEYWORDS", "check_names", "collect", "public_procedures", "wrapper_module", "wrappers_for"]

MODULE_NAME = "xlwings_udfs"
MAX_VBA_LINE_LENGTH = 1024
_LINE_SPLIT = " _\n"

#: Reserved words of VBA: not allowed as a function or argument name.
VBA_KEYWORDS = frozenset(w.lower() for w in re.findall(r"\w+", """
    AddressOf And Any As Attribute Boolean ByRef Byte ByVal Call Case CBool CByte CCur CDate CDbl CDec CInt CLng
    CLngLng CLngPtr Close Const CSng CStr Currency CVar CVErr Date Debug Decimal Declare DefBool DefByte DefCur
    DefDate DefDbl DefDec DefInt DefLng DefLngLng DefLngPtr DefObj DefSng DefStr DefVar Dim Do DoEvents Double
    Each Else ElseIf Empty End EndIf Enum Eqv Erase Error Event Exit False Fix For Friend Function Get Global GoSub
    GoTo If Imp Implements In Input Int Integer Is LBound Len LenB Let Like Local Lock Long LongLong LongPtr Loop
    LSet Me Mid MidB Mod New Next Not Nothing Null Object On Open Option Optional Or Output ParamArray Preserve
    Print Private Property PtrSafe Public Put RaiseEvent ReDim Rem Resume Return RSet Seek Select Set Sgn Shared
    Single Spc Static Step Stop String Sub Tab Then To True Type TypeOf UBound Unlock Until Variant Wend While With
    WithEvents Write Xor
"""))
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")
_A1_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE = re.compile(r"^[Rr][0-9]*([Cc][0-9]*)?$|^[Cc][0-9]*$")
_PROCEDURE = re.compile(r"^(?:(Public|Private|Friend)\s+)?(?:Static\s+)?(?:Function|Sub|Property\s+Get)\s+(\w+)",
                        re.I | re.M)


# =========================================================================== recording decorators
def _func_sig(f: Callable[..., Any]) -> dict[str, Any]:
    """Arguments of ``f`` as xlwings reads them (``udfs.func_sig``)."""
    args: list[str] = []
    defaults: list[Any] = []
    vararg = None
    for p in inspect.signature(f).parameters.values():
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            args.append(p.name)
            if p.default is not inspect.Signature.empty:
                defaults.append(p.default)
        elif p.kind is inspect.Parameter.VAR_POSITIONAL:
            args.append(p.name)
            vararg = p.name
        else:
            raise ValueError(f"{f.__name__}: xlwings does not support UDFs with keyword arguments")
    return {"args": args, "defaults": defaults, "vararg": vararg}


def _xlfunc(f: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Stand-in for ``xlwings.udfs.xlfunc``: records ``__xlfunc__`` the same way."""

    def inner(f: Callable[..., Any]) -> Callable[..., Any]:
        if not hasattr(f, "__xlfunc__"):
            sig = _func_sig(f)
            n_required = len(sig["args"]) - len(sig["defaults"])
            if sig["vararg"] and sig["defaults"]:
                raise ValueError(f"{f.__name__}: xlwings does not support UDFs with both optional and "
                                 "variable length arguments")
            args = []
            for pos, name in enumerate(sig["args"]):
                arg: dict[str, Any] = {"name": name, "pos": pos, "vba": None, "vararg": name == sig["vararg"],
                                       "options": {}}
                if pos >= n_required:
                    arg["optional"] = sig["defaults"][pos - n_required]
                args.append(arg)
            f.__xlfunc__ = {  # type: ignore[attr-defined]
                "name": f.__name__, "sub": False, "args": args, "argmap": {a["name"]: a for a in args},
                "ret": {"options": {}},
            }
        xlf = f.__xlfunc__  # type: ignore[attr-defined]
        # xlwings sets these on every call, so a later xw.arg/xw.ret resets them to the defaults
        xlf["category"] = kwargs.get("category", "xlwings")
        xlf["call_in_wizard"] = bool(kwargs.get("call_in_wizard", True))
        xlf["volatile"] = bool(kwargs.get("volatile", False))
        return f

    return inner if f is None else inner(f)


def _xlsub(f: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    def inner(f: Callable[..., Any]) -> Callable[..., Any]:
        f = _xlfunc(**kwargs)(f)
        f.__xlfunc__["sub"] = True  # type: ignore[attr-defined]
        return f

    return inner if f is None else inner(f)


def _xlret(convert: Any = None, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def inner(f: Callable[..., Any]) -> Callable[..., Any]:
        _xlfunc(f)
        return f

    return inner


def _xlarg(arg: str, convert: Any = None, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def inner(f: Callable[..., Any]) -> Callable[..., Any]:
        xlf = _xlfunc(f).__xlfunc__
        name = arg.lstrip("*")
        if name not in xlf["argmap"]:
            raise ValueError(f"{f.__name__}: invalid argument name {arg!r}")
        if "vba" in kwargs:
            xlf["argmap"][name]["vba"] = kwargs["vba"]
        return f

    return inner


@contextmanager
def _recording() -> Iterator[None]:
    import xlwings

    names = {"func": _xlfunc, "arg": _xlarg, "ret": _xlret, "sub": _xlsub, "script": _xlsub}
    saved = {name: getattr(xlwings, name) for name in names if hasattr(xlwings, name)}
    for name, stand_in in names.items():
        setattr(xlwings, name, stand_in)
    try:
        yield
    finally:
        for name in names:
            if name in saved:
                setattr(xlwings, name, saved[name])
            else:
                delattr(xlwings, name)


def collect(module_name: str) -> ModuleType:
    """A fresh copy of ``module_name`` imported with recording decorators (``sys.modules`` is left as it was).

    Raises ModuleNotFoundError when the module does not exist.
    """
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {module_name!r}", name=module_name)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module  # dataclasses and typing look the module up while it executes
    try:
        with _recording():
            spec.loader.exec_module(module)
    finally:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
    return module


# =========================================================================== the VBA text
class _Writer:
    """Port of ``xlwings.utils.VBAWriter`` (4-space indents, labels one level out, long lines split)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.indent = 0
        self.fresh = True

    def write(self, text: str) -> None:
        if self.fresh:
            text = "    " * self.indent + text
            self.fresh = False
        self._line(text)
        if text.endswith("\n"):
            self.fresh = True

    def _line(self, text: str) -> None:
        if len(text) > MAX_VBA_LINE_LENGTH:
            cut = MAX_VBA_LINE_LENGTH - len(_LINE_SPLIT)
            at = next((i for i in range(cut, 0, -1) if text[i] == " "), cut)
            self.parts.append(text[:at] + _LINE_SPLIT)
            self._line(text[at:])
        else:
            self.parts.append(text)

    def writeln(self, text: str) -> None:
        self.write(text + "\n")

    def label(self, name: str) -> None:
        self.indent -= 1
        self.write(name + ":\n")
        self.indent += 1

    @contextmanager
    def block(self, start: str) -> Iterator[None]:
        self.writeln(start)
        self.indent += 1
        try:
            yield
        finally:
            self.indent -= 1

    def text(self) -> str:
        return "".join(self.parts)


def _udfs(module: ModuleType) -> list[dict[str, Any]]:
    return [getattr(module, attr).__xlfunc__ for attr in dir(module) if hasattr(getattr(module, attr), "__xlfunc__")]


def wrappers_for(module_name: str, module: ModuleType, *, workbook: str = "ThisWorkbook") -> str:
    """The VBA wrappers of one module, as ``generate_vba_wrapper`` writes them (LF line ends)."""
    vba = _Writer()
    for xlfunc in _udfs(module):
        fname = xlfunc["name"]
        ftype = "Sub" if xlfunc["sub"] else "Function"
        sig = ftype + " " + fname + "("
        first, vararg, argname = True, "", ""
        for arg in xlfunc["args"]:
            if arg["name"] == "caller":
                arg["vba"] = "Nothing"  # xlwings passes the caller itself
            if not arg["vba"]:
                argname = arg["name"]
                if not first:
                    sig += ", "
                if "optional" in arg:
                    sig += "Optional "
                elif arg["vararg"]:
                    sig += "ParamArray "
                    vararg = argname
                sig += argname
                if arg["vararg"]:
                    sig += "()"
                first = False
        sig += ")"
        with vba.block(sig):
            if ftype == "Function":
                if not xlfunc["call_in_wizard"]:
                    vba.writeln('If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function')
                if xlfunc["volatile"]:
                    vba.writeln("Application.Volatile")
            if vararg:
                non_varargs = [a["vba"] or a["name"] for a in xlfunc["args"] if not a["vararg"]]
                vba.writeln("Dim argsArray() As Variant")
                vba.writeln(f"argsArray = Array({', '.join(non_varargs)})")
                vba.writeln(f"ReDim Preserve argsArray(0 to UBound({vararg}) - LBound({vararg}) + {len(non_varargs)})")
                vba.writeln(f"For k = LBound({vararg}) To UBound({vararg})")
                vba.writeln(f"argsArray({len(non_varargs)} + k - LBound({vararg})) = {argname}(k)")
                vba.writeln("Next k")
                args_vba = "argsArray"
            else:
                args_vba = "Array(" + ", ".join(a["vba"] or a["name"] for a in xlfunc["args"]) + ")"
            if ftype == "Sub":
                with vba.block('#If App = "Microsoft Excel" Then'):
                    vba.writeln(f'XLPy.CallUDF "{module_name}", "{fname}", {args_vba}, {workbook}, Application.Caller')
                with vba.block("#Else"):
                    vba.writeln(f'XLPy.CallUDF "{module_name}", "{fname}", {args_vba}')
                vba.writeln("#End If")
            else:
                with vba.block('#If App = "Microsoft Excel" Then'):
                    vba.writeln("If TypeOf Application.Caller Is Range Then On Error GoTo failed")
                    vba.writeln(f'{fname} = XLPy.CallUDF("{module_name}", "{fname}", {args_vba}, {workbook}, '
                                "Application.Caller)")
                    vba.writeln("Exit " + ftype)
                with vba.block("#Else"):
                    vba.writeln(f'{fname} = XLPy.CallUDF("{module_name}", "{fname}", {args_vba})')
                    vba.writeln("Exit " + ftype)
                vba.writeln("#End If")
                vba.label("failed")
                vba.writeln(fname + " = Err.Description")
        vba.writeln("End " + ftype)
        vba.writeln("")
    return vba.text()


def public_procedures(vba_source: str) -> set[str]:
    """Names (lower case) of the public Functions/Subs of a standard module's source."""
    return {m.group(2).lower() for m in _PROCEDURE.finditer(vba_source) if (m.group(1) or "").lower() != "private"}


def check_names(modules: Iterable[ModuleType], taken: Iterable[str] = ()) -> None:
    """Refuse names VBA or Excel cannot use, naming the function and the argument."""
    seen = {t.lower() for t in taken}
    for module in modules:
        for xlfunc in _udfs(module):
            fname = xlfunc["name"]
            where = f"{module.__name__}.{fname}"
            if not _IDENTIFIER.match(fname):
                raise ValueError(f"{where}: {fname!r} is not a VBA name (letters, digits, _; a letter first)")
            if fname.lower() in VBA_KEYWORDS:
                raise ValueError(f"{where}: {fname!r} is a VBA keyword")
            if _A1_LIKE.match(fname) or _R1C1_LIKE.match(fname):
                raise ValueError(f"{where}: {fname!r} looks like a cell reference; Excel cannot call it")
            if fname.lower() in seen:
                raise ValueError(f"{where}: {fname!r} is already a procedure of the workbook's VBA project")
            seen.add(fname.lower())
            for arg in xlfunc["args"]:
                name = arg["name"]
                if arg.get("vba") or name == "caller":
                    continue
                if not _IDENTIFIER.match(name) or name.lower() in VBA_KEYWORDS:
                    raise ValueError(f"{where}: argument {name!r} cannot be a VBA parameter name (rename it)")


def wrapper_module(module_names: Sequence[str], *, taken: Iterable[str] = (), addin: bool = False) -> str:
    """The whole ``xlwings_udfs`` module for ``module_names`` (as ``import_udfs`` writes it), CRLF line ends.

    ``taken``: names of other public procedures in the project (they must not clash with a UDF).
    ``addin``: write ``ActiveWorkbook`` instead of ``ThisWorkbook``, as xlwings does for an ``.xlam``.
    """
    modules = [(name, collect(name)) for name in module_names]
    check_names([m for _, m in modules], taken)
    head = (f'Attribute VB_Name = "{MODULE_NAME}"\n'
            "'Autogenerated code by xlwings - changes will be lost with next import!\n"
            "#Const App = \"Microsoft Excel\" 'Adjust when using outside of Excel\n")
    workbook = "ActiveWorkbook" if addin else "ThisWorkbook"
    body = "".join(wrappers_for(name, module, workbook=workbook) for name, module in modules)
    return (head + body).replace("\n", "\r\n")

"""XML-RPC messages, pure: the add-on's calls to the CCU and the CCU's callbacks to it.

Encodes and decodes what :mod:`xmlrpc.client` does with ``dumps(..., allow_none=True)`` and
``loads(..., use_builtin_types=True)``, to the byte for the add-on's values (tests compare
both): ``None`` ↔ ``<nil/>``, ``bool``, ``int`` (32 bit; ``i1``…``i8`` and ``biginteger``
read), ``float`` (``double``), ``str`` (an untyped ``<value>`` too), ``bytes`` ↔
``base64``, naive ``datetime`` ↔ ``dateTime.iso8601``, ``list`` / ``tuple`` ↔ ``array``,
``dict`` ↔ ``struct`` (string keys), and ``bigdecimal`` read as :class:`~decimal.Decimal`.
A namespace prefix (``ex:nil``) is ignored, as the standard library does.

Why not the standard library: ``xmlrpc.client`` imports ``http.client`` and with it most of
the ``email`` package, plus ``decimal`` and ``gzip``: some 2 MB of RSS for the daemon's whole
life, for two small functions. The parser is the same (``expat``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final
from xml.parsers import expat

from ccu_addon.errors import AddonError

__all__ = ["Fault", "XmlRpcError", "dumps_call", "dumps_fault", "dumps_response", "loads"]

_HEADER: Final = "<?xml version='1.0'?>\n"
_INT_RANGE: Final = range(-(2**31), 2**31)
_DATETIME: Final = "%Y%m%dT%H:%M:%S"


class XmlRpcError(AddonError, ValueError):
    """Not a valid XML-RPC message (or a value XML-RPC cannot carry)."""


class Fault(AddonError):  # noqa: N818 - XML-RPC's own name for an error answer
    """An XML-RPC fault: the answer of a call that failed."""

    def __init__(self, code: int, string: str) -> None:
        super().__init__(f"fault {code}: {string}")
        self.code = code
        self.string = string


def dumps_call(method: str, params: Sequence[Any]) -> bytes:
    """A ``methodCall`` document, UTF-8."""
    body = f"<methodCall>\n<methodName>{_escape(method)}</methodName>\n{_params(params)}"
    return f"{_HEADER}{body}</methodCall>\n".encode()


def dumps_response(value: Any) -> bytes:
    """A ``methodResponse`` with one value, UTF-8."""
    return f"{_HEADER}<methodResponse>\n{_params((value,))}</methodResponse>\n".encode()


def dumps_fault(code: int, string: str) -> bytes:
    """A ``methodResponse`` with a fault, UTF-8."""
    out: list[str] = []
    _dump({"faultCode": code, "faultString": string}, out.append, set())
    fault = "".join(out)
    return f"{_HEADER}<methodResponse>\n<fault>\n{fault}</fault>\n</methodResponse>\n".encode()


def loads(data: bytes) -> tuple[tuple[Any, ...], str | None]:
    """(params, method name) of a call or response; a fault response raises :class:`Fault`."""
    reader = _Reader()
    parser = expat.ParserCreate(None, None)  # the document's own declaration decides
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data.append
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlRpcError(f"not XML: {exc}") from exc
    return reader.close()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _params(values: Sequence[Any]) -> str:
    out = ["<params>\n"]
    memo: set[int] = set()
    for value in values:
        out.append("<param>\n")
        _dump(value, out.append, memo)
        out.append("</param>\n")
    out.append("</params>\n")
    return "".join(out)


def _dump(value: Any, write: Callable[[str], object], memo: set[int]) -> None:
    if value is None:
        write("<value><nil/></value>")
    elif isinstance(value, bool):
        write(f"<value><boolean>{int(value)}</boolean></value>\n")
    elif isinstance(value, int):
        if value not in _INT_RANGE:
            raise OverflowError("int exceeds XML-RPC limits")
        write(f"<value><int>{int(value)}</int></value>\n")
    elif isinstance(value, float):
        write(f"<value><double>{float(value)!r}</double></value>\n")
    elif isinstance(value, str):
        write(f"<value><string>{_escape(value)}</string></value>\n")
    elif isinstance(value, bytes | bytearray):
        write(f"<value><base64>\n{base64.encodebytes(value).decode('ascii')}</base64></value>\n")
    elif isinstance(value, datetime):
        write(f"<value><dateTime.iso8601>{_iso8601(value)}</dateTime.iso8601></value>\n")
    elif isinstance(value, list | tuple | dict):
        if id(value) in memo:
            raise TypeError("cannot marshal recursive structures")
        memo.add(id(value))
        if isinstance(value, dict):
            write("<value><struct>\n")
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError("dictionary key must be string")
                write(f"<member>\n<name>{_escape(key)}</name>\n")
                _dump(item, write, memo)
                write("</member>\n")
            write("</struct></value>\n")
        else:
            write("<value><array><data>\n")
            for item in value:
                _dump(item, write, memo)
            write("</data></array></value>\n")
        memo.discard(id(value))
    else:
        raise TypeError(f"cannot marshal {type(value)} objects")


def _iso8601(value: datetime) -> str:
    return f"{value.year:04d}{value:%m%dT%H:%M:%S}"


class _Reader:
    """Builds the values from expat's events (a stack, as the standard library does)."""

    def __init__(self) -> None:
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.data: list[str] = []
        self.kind: str | None = None
        self.method: str | None = None
        self.untyped = False
        """Inside a ``<value>`` that has no typed element (yet): its text is a string."""

    def start(self, tag: str, _attrs: Any) -> None:
        tag = tag.rpartition(":")[2]
        if tag in {"array", "struct"}:
            self.marks.append(len(self.stack))
        self.data.clear()
        if self.untyped and tag not in _END:
            raise XmlRpcError(f"unknown tag {tag!r}")
        self.untyped = tag == "value"

    def end(self, tag: str) -> None:
        handler = _END.get(tag.rpartition(":")[2])
        if handler is not None:
            handler(self, "".join(self.data))

    def close(self) -> tuple[tuple[Any, ...], str | None]:
        if self.kind is None or self.marks:
            raise XmlRpcError("incomplete XML-RPC message")
        if self.kind == "fault":
            fault = self.stack[0] if self.stack else None
            if not isinstance(fault, dict):
                raise XmlRpcError("malformed fault")
            raise Fault(fault.get("faultCode", -1), str(fault.get("faultString", "")))
        return tuple(self.stack), self.method

    def push(self, value: Any) -> None:
        self.stack.append(value)
        self.untyped = False

    def boolean(self, text: str) -> None:
        if text not in {"0", "1"}:
            raise XmlRpcError(f"bad boolean value {text!r}")
        self.push(text == "1")

    def _mark(self) -> int:
        if not self.marks:
            raise XmlRpcError("end of an array or struct that never started")
        return self.marks.pop()

    def array(self, _text: str) -> None:
        mark = self._mark()
        self.stack[mark:] = [self.stack[mark:]]
        self.untyped = False

    def struct(self, _text: str) -> None:
        mark = self._mark()
        items = self.stack[mark:]
        names = items[::2]
        if not all(isinstance(name, str) for name in names):
            raise XmlRpcError("struct member without a string name")
        self.stack[mark:] = [dict(zip(names, items[1::2], strict=False))]
        self.untyped = False

    def bigdecimal(self, text: str) -> None:
        from decimal import Decimal, InvalidOperation  # noqa: PLC0415 - never sent by a CCU

        try:
            self.push(Decimal(text))
        except InvalidOperation as exc:
            raise XmlRpcError(f"bad decimal {text[:40]!r}") from exc

    def value(self, text: str) -> None:
        if self.untyped:
            self.push(text)

    def binary(self, text: str) -> None:
        try:
            self.push(base64.decodebytes(text.encode("ascii")))
        except ValueError as exc:  # binascii.Error, or a non-ASCII character
            raise XmlRpcError("bad base64 value") from exc

    def timestamp(self, text: str) -> None:
        # XML-RPC times carry no zone: naive, as the standard library returns them
        try:
            self.push(datetime.strptime(text, _DATETIME))  # noqa: DTZ007
        except ValueError as exc:
            raise XmlRpcError(f"bad dateTime.iso8601 value {text[:40]!r}") from exc

    def method_name(self, text: str) -> None:
        self.method = text
        self.kind = "methodName"


def _number(convert: Callable[[str], Any]) -> Callable[[_Reader, str], None]:
    def end(reader: _Reader, text: str) -> None:
        try:
            reader.push(convert(text))
        except ValueError as exc:
            raise XmlRpcError(f"bad number {text!r}") from exc

    return end


def _set_kind(kind: str) -> Callable[[_Reader, str], None]:
    def end(reader: _Reader, _text: str) -> None:
        reader.kind = kind

    return end


_END: Final[dict[str, Callable[[_Reader, str], None]]] = {
    "nil": lambda reader, _text: reader.push(None),
    "boolean": _Reader.boolean,
    **dict.fromkeys(("i1", "i2", "i4", "i8", "int", "biginteger"), _number(int)),
    **dict.fromkeys(("double", "float"), _number(float)),
    "bigdecimal": _Reader.bigdecimal,
    "string": _Reader.push,
    "name": _Reader.push,
    "array": _Reader.array,
    "struct": _Reader.struct,
    "base64": _Reader.binary,
    "dateTime.iso8601": _Reader.timestamp,
    "value": _Reader.value,
    "params": _set_kind("params"),
    "fault": _set_kind("fault"),
    "methodName": _Reader.method_name,
}

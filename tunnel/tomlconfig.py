"""Load TOML files into frozen configuration dataclasses.

Every CLI of the product describes its configuration as frozen, slotted, keyword-only
dataclasses (one docstring line per field). :func:`load_config` reads a TOML file and
builds such a dataclass, checking every key and type once at start-up. Errors are
:class:`~tunnel.errors.ConfigError` and name the file and the dotted key::

    gateway.toml: http.port: expected an integer, got 'abc'

Supported field types: ``str``, ``int``, ``float``, ``bool``, ``pathlib.Path``,
``StrEnum`` subclasses, ``X | None``, ``tuple[X, ...]``, ``dict[str, X]`` and nested
dataclasses (a TOML table, or an array of tables for ``tuple[Dataclass, ...]``).
Relative paths are resolved against the configuration file's folder.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from tunnel.errors import ConfigError

__all__ = ["from_mapping", "load_config"]

T = TypeVar("T")


def load_config(path: Path | str, cls: type[T]) -> T:
    """Read the TOML file at ``path`` and build ``cls`` from it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, "not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), None, f"invalid TOML: {exc}") from exc
    return from_mapping(data, cls, source=str(path), base_dir=path.parent)


def from_mapping(
    data: dict[str, Any], cls: type[T], *, source: str = "<config>", base_dir: Path | None = None
) -> T:
    """Build ``cls`` from an already parsed mapping (used by tests and by defaults)."""
    return typing.cast(T, _build(cls, data, _Ctx(source, base_dir or Path.cwd()), ""))


@dataclasses.dataclass(frozen=True, slots=True)
class _Ctx:
    source: str
    base_dir: Path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, key or None, problem)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _build(cls: type[Any], data: object, ctx: _Ctx, prefix: str) -> object:
    if not isinstance(data, dict):
        raise ctx.fail(prefix, f"expected a table, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise ctx.fail(_join(prefix, unknown[0]), f"unknown key (known keys: {known})")
    kwargs: dict[str, object] = {}
    for name, field in fields.items():
        key = _join(prefix, name)
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], ctx, key)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ctx.fail(key, "missing required key")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ctx.fail(prefix, str(exc)) from exc


def _convert(tp: Any, value: object, ctx: _Ctx, key: str) -> object:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _convert(options[0], value, ctx, key)
        raise ctx.fail(key, "unsupported union type in configuration class")
    if origin is tuple:
        if not isinstance(value, list):
            raise ctx.fail(key, f"expected an array, got {_describe(value)}")
        return tuple(_convert(args[0], v, ctx, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ctx.fail(key, f"expected a table, got {_describe(value)}")
        return {str(k): _convert(args[1], v, ctx, _join(key, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _build(tp, value, ctx, key)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [str(m.value) for m in tp]
        if not isinstance(value, str) or value not in allowed:
            raise ctx.fail(key, f"expected one of {', '.join(allowed)}, got {value!r}")
        return tp(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.fail(key, f"expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ctx.fail(key, f"expected an integer, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ctx.fail(key, f"expected a number, got {_describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ctx.fail(key, f"expected a string, got {_describe(value)}")
        return value
    if tp is Path:
        if not isinstance(value, str):
            raise ctx.fail(key, f"expected a path string, got {_describe(value)}")
        p = Path(value).expanduser()
        return p if p.is_absolute() else ctx.base_dir / p
    raise ctx.fail(key, f"unsupported type {tp!r} in configuration class")


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    return repr(value)

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

:func:`dump_config` writes such a dataclass back as TOML that :func:`load_config` reads to an
equal value (a program that runs with a built configuration leaves it where its other
commands can be pointed at it).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from tunnel.errors import ConfigError

__all__ = ["dump_config", "from_mapping", "load_config"]

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


def dump_config(config: object) -> str:
    """``config`` (a configuration dataclass) as TOML text that :func:`load_config` reads back.

    Every field is written, so the file shows the whole configuration in force. ``None``
    fields are left out (TOML has no null); that reads back as the field's default, so a
    ``None`` where the default is something else is refused with ``ValueError``.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError("dump_config takes a dataclass instance")
    lines: list[str] = []
    _dump_table(config, "", lines)
    return "\n".join(lines).strip() + "\n"


def _dump_table(obj: object, prefix: str, lines: list[str]) -> None:
    tables: list[tuple[str, object]] = []
    for field in dataclasses.fields(obj):  # type: ignore[arg-type]
        if not field.init:
            continue
        value = getattr(obj, field.name)
        key = _join(prefix, field.name)
        if value is None:
            if field.default is not None:
                raise ValueError(f"{key}: None cannot be written (its default is not None)")
            continue
        if _is_table(value):
            tables.append((key, value))
        else:
            lines.append(f"{_bare_key(field.name)} = {_dump_value(value, key)}")
    for key, value in tables:
        if isinstance(value, tuple):
            for item in value:
                lines.extend(["", f"[[{key}]]"])
                _dump_table(item, key, lines)
        elif isinstance(value, dict):
            lines.extend(["", f"[{key}]"])
            lines.extend(
                f"{_bare_key(k)} = {_dump_value(v, _join(key, k))}" for k, v in value.items()
            )
        else:
            lines.extend(["", f"[{key}]"])
            _dump_table(value, key, lines)


def _is_table(value: object) -> bool:
    if isinstance(value, tuple):
        return bool(value) and dataclasses.is_dataclass(value[0])
    return dataclasses.is_dataclass(value) or isinstance(value, dict)


def _bare_key(name: str) -> str:
    ok = name and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    return name if ok else json.dumps(name)


def _dump_value(value: object, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return json.dumps(str(value.value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str | Path):
        # JSON's escapes (\\ \" \n \uXXXX) are all valid in TOML basic strings
        return json.dumps(str(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(_dump_value(v, key) for v in value) + "]"
    raise ValueError(f"{key}: cannot write {type(value).__name__} as TOML")

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pytest

from cloud_gateway.config import GatewayConfig
from tunnel.errors import ConfigError
from tunnel.tomlconfig import dump_config, from_mapping, load_config


class Mode(StrEnum):
    FAST = "fast"
    SAFE = "safe"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inner:
    port: int = 1
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Outer:
    name: str
    ratio: float = 0.5
    enabled: bool = False
    mode: Mode = Mode.SAFE
    folder: Path | None = None
    inner: Inner = field(default_factory=Inner)
    items: tuple[Inner, ...] = ()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_loads_nested_values_and_resolves_relative_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'name = "x"\nratio = 2\nmode = "fast"\nfolder = "data"\n'
        '[inner]\nport = 9\nhosts = ["a", "b"]\n[[items]]\nport = 3\n',
    )
    cfg = load_config(path, Outer)
    assert cfg == Outer(
        name="x",
        ratio=2.0,
        mode=Mode.FAST,
        folder=tmp_path / "data",
        inner=Inner(port=9, hosts=("a", "b")),
        items=(Inner(port=3),),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\ncolour = 1\n', "c.toml: colour: unknown key"),
        (
            'name = "x"\n[inner]\nport = "abc"\n',
            "c.toml: inner.port: expected an integer, got 'abc'",
        ),
        ('name = "x"\nenabled = 1\n', "c.toml: enabled: expected true or false"),
        ('name = "x"\nmode = "turbo"\n', "c.toml: mode: expected one of fast, safe"),
        ("ratio = 1.0\n", "c.toml: name: missing required key"),
        ('name = "x"\n[[items]]\nport = true\n', "c.toml: items[0].port: expected an integer"),
        ('name = "x"\ninner = 3\n', "c.toml: inner: expected a table"),
        ("name = \n", "c.toml: invalid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), Outer)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found"):
        load_config(tmp_path / "nope.toml", Outer)


def test_validation_in_post_init_is_reported_as_config_error() -> None:
    with pytest.raises(ConfigError, match=r"http: port 70000 is outside"):
        from_mapping({"http": {"port": 70000}}, GatewayConfig, source="g.toml")


@dataclass(frozen=True, slots=True, kw_only=True)
class Named:
    labels: dict[str, str] = field(default_factory=dict)
    default_port: int | None = 5


def test_dump_config_reads_back_equal(tmp_path: Path) -> None:
    config = Outer(
        name='quote " backslash \\ newline \n umlaut ä',
        ratio=2.25,
        enabled=True,
        mode=Mode.FAST,
        folder=tmp_path / "state dir",
        inner=Inner(port=8_443, hosts=("a", "b")),
        items=(Inner(port=1), Inner(port=2, hosts=("x",))),
    )
    path = write(tmp_path, dump_config(config))
    assert load_config(path, Outer) == config


def test_dump_config_leaves_out_none_and_writes_tables(tmp_path: Path) -> None:
    text = dump_config(Outer(name="n"))
    assert "folder" not in text
    assert "[inner]" in text
    assert load_config(write(tmp_path, text), Outer) == Outer(name="n")
    labels = Named(labels={"plain": "1", "with space": "2"})
    assert load_config(write(tmp_path, dump_config(labels)), Named) == labels


def test_dump_config_refuses_a_none_that_would_read_back_as_a_value() -> None:
    with pytest.raises(ValueError, match="default_port"):
        dump_config(Named(default_port=None))


def test_the_gateway_configuration_round_trips(tmp_path: Path) -> None:
    config = GatewayConfig(state_dir=tmp_path / "gw")
    assert load_config(write(tmp_path, dump_config(config)), GatewayConfig) == config

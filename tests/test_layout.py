"""The layout rules of DESIGN.md and ADR 0004, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("tunnel", "cloud_gateway", "ccu_addon", "inverter_agent")
PACKAGES = (*PRODUCT, "simulator", "bench")


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_typed(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()


@pytest.mark.parametrize("package", ["tunnel", "ccu_addon", "inverter_agent"])
def test_device_code_never_imports_the_gateway(package: str) -> None:
    offenders = [p for p in sources(package) if "cloud_gateway" in imported_roots(p)]
    assert offenders == []


def test_tunnel_imports_no_device_package() -> None:
    offenders = [
        p for p in sources("tunnel") if imported_roots(p) & {"ccu_addon", "inverter_agent"}
    ]
    assert offenders == []


@pytest.mark.parametrize("stand_in", ["ccu", "inverter"])
def test_hardware_stand_ins_import_no_product_package(stand_in: str) -> None:
    folder = ROOT / "simulator" / stand_in
    files = sorted(folder.rglob("*.py")) if folder.exists() else []
    offenders = [p for p in files if imported_roots(p) & set(PRODUCT)]
    assert offenders == []


def test_tests_mirror_the_packages() -> None:
    for package in PACKAGES:
        assert (ROOT / "tests" / package).is_dir(), package

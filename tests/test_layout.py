"""The layout rules of DESIGN.md and ADR 0004, checked on the source tree."""

from __future__ import annotations

import ast
import re
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


# -- the gateway's layers (issue #21, ADR 0014) ------------------------------------------------

GATEWAY = ROOT / "cloud_gateway"
#: the gateway's units, lowest first: a unit's core modules import only units of lower layers.
#: Areas own their model, tables, repositories and services; the web layer and the
#: composition root sit on top and may import every area.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors"),
    ("i18n", "config", "tls", "localdays", "store", "proxy_header"),
    ("notify",),
    ("accounts",),
    ("devices",),
    ("entitlements",),
    ("plants",),
    ("telemetry",),
    ("monitoring",),
    ("tunnels",),
    ("fleet",),
    ("remote",),
    ("operator",),
    ("billing",),
    ("contracts",),
    ("payments", "banking"),
    ("shop",),
    ("licences",),
    ("support",),
    ("portal",),
    ("http",),
    (
        "wiring",
        "app",
        "tls_budget",
        "tls_stage",
        "tls_site",
        "proxy_site",
        "server",
        "cli",
        "composition",
    ),
)
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}
WEB_RANK = RANK["http"]


def gateway_imports(path: Path) -> list[str]:
    """The absolute ``cloud_gateway.*`` and ``aiohttp.web`` modules ``path`` imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            if node.module == "aiohttp":
                found += [f"aiohttp.{alias.name}" for alias in node.names]
    return [m for m in found if m.startswith(("cloud_gateway.", "aiohttp.web"))]


def unit_of(path: Path) -> str:
    parts = path.relative_to(GATEWAY).with_suffix("").parts
    return parts[0]


def importable(package: str) -> list[Path]:
    """The package's modules that may be imported on their own (not Alembic's scripts)."""
    return [p for p in sources(package) if "migrations" not in p.parts]


def module_name(path: Path) -> str:
    parts = ("cloud_gateway", *path.relative_to(GATEWAY).with_suffix("").parts)
    return ".".join(parts).removesuffix(".__init__")


def is_web_module(path: Path) -> bool:
    """An area module that speaks HTTP (aiohttp.web) or uses the web layer belongs to that layer.

    The base units (errors, i18n, config, tls, localdays, store) are never web modules.
    """
    rank = RANK.get(unit_of(path), 0)
    if rank >= WEB_RANK:
        return True
    if rank <= RANK["store"]:
        return False
    return any(
        m.startswith("aiohttp.web") or RANK.get(m.split(".")[1], 0) >= WEB_RANK
        for m in gateway_imports(path)
    )


def test_every_gateway_unit_has_a_layer() -> None:
    units = {unit_of(p) for p in sources("cloud_gateway")}
    assert units - set(RANK) == set()


def test_store_imports_no_area() -> None:
    offenders = [
        (p.name, m)
        for p in sorted((GATEWAY / "store").rglob("*.py"))
        for m in gateway_imports(p)
        if m.startswith("cloud_gateway.")
        and not m.startswith(("cloud_gateway.store", "cloud_gateway.errors"))
    ]
    assert offenders == []


def test_area_cores_import_only_lower_layers() -> None:
    """No cycle between areas: a core module imports its own unit or lower layers only."""
    offenders = []
    for path in sources("cloud_gateway"):
        if is_web_module(path):
            continue
        unit = unit_of(path)
        for m in gateway_imports(path):
            target = m.split(".")[1] if m.startswith("cloud_gateway.") else None
            if target is not None and target != unit and RANK[target] >= RANK[unit]:
                offenders.append((module_name(path), m))
    assert offenders == []


def test_core_modules_import_no_web_module() -> None:
    web = {module_name(p) for p in sources("cloud_gateway") if is_web_module(p)}
    offenders = [
        (module_name(p), m)
        for p in sources("cloud_gateway")
        if not is_web_module(p)
        for m in gateway_imports(p)
        if m in web
    ]
    assert offenders == []


def _part(path: Path) -> str:
    """An area's core or its web modules; the web layer and composition count as one each."""
    unit = unit_of(path)
    return f"{unit}:web" if is_web_module(path) and RANK[unit] < WEB_RANK else unit


def test_no_two_way_dependency_between_units() -> None:
    """The import graph of cores and web parts (``http`` included) has no two-way edge."""
    modules = {module_name(p): p for p in importable("cloud_gateway")}
    edges: set[tuple[str, str]] = set()
    for path in modules.values():
        for m in gateway_imports(path):
            target = modules.get(m) or modules.get(m.rpartition(".")[0])
            if target is not None and _part(path) != _part(target):
                edges.add((_part(path), _part(target)))
    assert sorted((a, b) for a, b in edges if (b, a) in edges) == []


def test_the_code_map_names_every_gateway_package() -> None:
    text = (ROOT / "docs" / "code-map.md").read_text()
    packages = sorted(
        p.parent.relative_to(ROOT).as_posix() + "/"
        for p in GATEWAY.rglob("__init__.py")
        if "migrations" not in p.parts
    )
    modules = sorted(p.relative_to(ROOT).as_posix() for p in GATEWAY.glob("*.py"))
    missing = [name for name in packages + modules if f"`{name}`" not in text]
    assert missing == []


# -- the error contract -------------------------------------------------------------------------


def _classes(path: Path) -> list[ast.ClassDef]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]


def test_every_gateway_exception_is_under_the_root_and_named_in_its_tree() -> None:
    import importlib  # noqa: PLC0415 - the imports are what this test is about

    import cloud_gateway.errors as root  # noqa: PLC0415

    tree = root.__doc__ or ""
    wrong: list[str] = []
    for path in importable("cloud_gateway"):
        module = importlib.import_module(module_name(path))
        for node in _classes(path):
            cls = getattr(module, node.name, None)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                continue
            named = re.search(rf"\b{cls.__name__}\b", tree) is not None
            if not issubclass(cls, root.GatewayError) or not named:
                wrong.append(f"{module.__name__}.{cls.__name__}")
    assert wrong == []


def test_no_state_guarding_asserts_in_the_gateway() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{n.lineno}"
        for p in sources("cloud_gateway")
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, ast.Assert)
    ]
    assert offenders == []


def _broad(handler: ast.ExceptHandler) -> bool:
    names = {"Exception", "BaseException"}
    kind = handler.type
    if kind is None:
        return True
    if isinstance(kind, ast.Tuple):
        return any(isinstance(e, ast.Name) and e.id in names for e in kind.elts)
    return isinstance(kind, ast.Name) and kind.id in names


def _tells(handler: ast.ExceptHandler) -> bool:
    """The handler re-raises, logs or hands the exception on (it does not swallow it)."""
    for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Attribute) and node.attr in {"exception", "warning", "error"}:
            return True
        if isinstance(node, ast.Name) and handler.name and node.id == handler.name:
            return True
    return False


def test_no_broad_except_swallows_in_the_gateway() -> None:
    offenders = []
    for path in sources("cloud_gateway"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and _broad(node) and not _tells(node):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func).endswith("suppress")
                and any(ast.unparse(a) in {"Exception", "BaseException"} for a in node.args)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_repository_maps_driver_errors() -> None:
    import importlib  # noqa: PLC0415

    from cloud_gateway.store.repository import Repository  # noqa: PLC0415

    wrong = []
    for path in importable("cloud_gateway"):
        module = importlib.import_module(module_name(path))
        for node in _classes(path):
            cls = getattr(module, node.name, None)
            named = node.name.endswith("Repository") and node.name != "Repository"
            if named and not (isinstance(cls, type) and issubclass(cls, Repository)):
                wrong.append(f"{module.__name__}.{node.name}")
    assert wrong == []


# -- wiring only in the composition root (issue #21) ---------------------------------------------

#: hooks services expose for the composition root to connect (listeners, observers, relays)
HOOKS = frozenset(
    {
        "relay",
        "locate",
        "observers",
        "state_hooks",
        "power_listeners",
        "nameplate_listeners",
        "on_change",
    }
)


def _hook_settings(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module sets a hook on another object (``x.relay = …``, ``x.observers.append``);
    ``self`` setting its own is construction, not wiring."""

    def foreign(node: ast.expr) -> str | None:
        if (
            isinstance(node, ast.Attribute)
            and (node.attr in HOOKS or node.attr.endswith(("_listeners", "_hooks")))
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ):
            return node.attr
        return None

    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"append", "extend", "insert"}
        ):
            targets = [node.func.value]
        found += [(getattr(node, "lineno", 0), name) for t in targets if (name := foreign(t))]
    return found


def test_services_are_wired_only_in_the_composition_root() -> None:
    wired = [
        f"{path}:{line} sets {name}"
        for path in sorted(GATEWAY.rglob("*.py"))
        if path.name != "composition.py"
        for line, name in _hook_settings(ast.parse(path.read_text()))
    ]
    assert wired == []
    composition = ast.parse((GATEWAY / "composition.py").read_text())
    assert {name for _, name in _hook_settings(composition)} >= {"relay", "observers"}


def test_areas_open_transactions_through_the_store_not_the_engine() -> None:
    """``store.database`` queues SQLite writers (ADR 0022); the engine itself is the store's."""
    direct = [
        f"{path.relative_to(GATEWAY)}:{node.lineno}"
        for path in sorted(GATEWAY.rglob("*.py"))
        if "store" not in path.relative_to(GATEWAY).parts[:1]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr == "begin"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "engine"
    ]
    assert direct == []

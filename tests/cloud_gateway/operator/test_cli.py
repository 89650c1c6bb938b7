"""``cloud-gateway operator create|list``: a staff account with a one-time password link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_security import AccountSecurityRepository, LinkPurpose
from cloud_gateway.store import Store
from tunnel.clock import SystemClock


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloud_gateway.cli", "operator", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_create_prints_a_password_link_and_list_shows_staff(tmp_path: Path) -> None:
    db = tmp_path / "gw.sqlite3"
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'state_dir = "{tmp_path}"\n[http]\npublic_host = "cloud.example.org"\nport = 443\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n'
    )
    made = _cli(config, "create", "alma", "--email", "Alma@Example.org", "--role", "accountant")
    assert made.returncode == 0, made.stderr
    [link] = [w for w in made.stdout.split() if w.startswith("https://")]
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("cloud.example.org", "/password/reset")
    token = parse_qs(parts.query)["token"][0]
    assert _cli(config, "create", "olga", "--email", "olga@example.org").returncode == 0
    twice = _cli(config, "create", "olga", "--email", "other@example.org")
    assert twice.returncode != 0  # the name is taken

    listed = _cli(config, "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t")[:3] for line in listed.stdout.splitlines()]
    assert rows == [
        ["alma", "accountant", "alma@example.org"],
        ["olga", "operator", "olga@example.org"],
    ]

    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    try:
        account_id = await store.repo(AccountSecurityRepository).peek_link(
            token, LinkPurpose.RESET_PASSWORD, SystemClock().now()
        )
        account = await store.repo(AccountRepository).get(account_id)
    finally:
        await store.close()
    assert (account.username, account.role) == ("alma", Role.ACCOUNTANT)

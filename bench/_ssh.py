"""An OpenSSH reverse tunnel (``ssh -R``) on loopback, the baseline of the tunnel benchmark.

:func:`reverse_tunnel` starts a private ``sshd`` on a free 127.0.0.1 port with throwaway
host and user keys in a temporary directory (its own ``sshd_config``: no PAM,
``StrictModes no``, ``AuthorizedKeysFile`` in the directory), then ``ssh -N -R
127.0.0.1:0:127.0.0.1:<target>`` per target, and yields the ports sshd allocated (ssh prints
"Allocated port N for remote forward" on stderr). :func:`ensure_sshd` installs
``openssh-server`` with apt-get when ``/usr/sbin/sshd`` is missing and we are root.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["SSHD", "SshUnavailableError", "ensure_sshd", "reverse_tunnel"]

SSHD = Path("/usr/sbin/sshd")
_ALLOCATED = re.compile(r"Allocated port (\d+) for remote forward")


class SshUnavailableError(RuntimeError):
    """sshd or ssh is missing and cannot be installed here."""


def ensure_sshd(*, install: bool = True) -> None:
    """Make sure sshd and ssh exist; apt-get install openssh-server if root and allowed."""
    if SSHD.exists() and shutil.which("ssh") and shutil.which("ssh-keygen"):
        return
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SshUnavailableError("sshd missing")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_cmd = ["apt-get", "install", "-y", "-q", "openssh-server"]
    for command in (["apt-get", "update", "-q"], install_cmd):
        done = subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
        if done.returncode != 0 and command[1] == "install":
            raise SshUnavailableError("sshd missing: apt-get install openssh-server failed")
    if not SSHD.exists():
        raise SshUnavailableError("sshd missing")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SshUnavailableError(f"sshd exited with {proc.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SshUnavailableError("sshd did not start listening")


def _config(tmp: Path, port: int) -> Path:
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-f", str(tmp / "host_key")], check=True)
    subprocess.run([*keygen, "-f", str(tmp / "user_key")], check=True)
    shutil.copy(tmp / "user_key.pub", tmp / "authorized_keys")
    config = tmp / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {tmp / 'host_key'}",
                f"AuthorizedKeysFile {tmp / 'authorized_keys'}",
                f"PidFile {tmp / 'sshd.pid'}",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "AllowTcpForwarding yes",
                "GatewayPorts no",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    return config


def _allocated_ports(proc: subprocess.Popen[bytes], count: int) -> list[int]:
    assert proc.stderr is not None
    ports: list[int] = []
    while len(ports) < count:
        line = proc.stderr.readline().decode(errors="replace")
        if not line:
            raise SshUnavailableError(f"ssh -R ended before allocating ports ({proc.wait()})")
        if match := _ALLOCATED.search(line):
            ports.append(int(match.group(1)))
    return ports


@contextlib.contextmanager
def reverse_tunnel(
    targets: Sequence[int],
    pids: list[int] | None = None,
    relay: Callable[[int], contextlib.AbstractContextManager[int]] | None = None,
) -> Iterator[list[int]]:
    """One ``ssh -R`` connection forwarding a fresh sshd-side port to each target port.

    ``pids``, if given, receives the process ids of sshd and ssh (for CPU accounting).
    ``relay``, if given, maps sshd's port to the port ssh dials instead (an emulated
    link in front of sshd).
    """
    ensure_sshd()
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as name:
        tmp = Path(name)
        port = _free_port()
        config = _config(tmp, port)
        sshd = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ssh: subprocess.Popen[bytes] | None = None
        stack = contextlib.ExitStack()
        try:
            _wait_listening(port, sshd)
            dial = port if relay is None else stack.enter_context(relay(port))
            forwards = [
                arg for target in targets for arg in ("-R", f"127.0.0.1:0:127.0.0.1:{target}")
            ]
            options = ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null",
                       "ExitOnForwardFailure=yes", "BatchMode=yes"]  # fmt: skip
            command = ["ssh", "-N", *forwards, "-i", str(tmp / "user_key"), "-p", str(dial)]
            command += [arg for option in options for arg in ("-o", option)]
            command.append(f"{getpass.getuser()}@127.0.0.1")
            ssh = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if pids is not None:
                pids.extend((sshd.pid, ssh.pid))
            yield _allocated_ports(ssh, len(targets))
        finally:
            for proc in (ssh, sshd):
                if proc is not None:
                    proc.terminate()
                    try:
                        proc.wait(5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                    if proc.stderr is not None:
                        proc.stderr.close()
            stack.close()

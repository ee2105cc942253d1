"""A network of its own for one test process: a Linux network namespace joined to this machine by a veth pair.

    from support.netns import NetNamespace, netns_available, netns  # noqa: F401  (netns: a fixture)

    def test_x(netns):
        ns = netns()                                   # 10.77.N.2 inside, 10.77.N.1 on this side
        proc = ns.run(["broadcaster", "receiver", "--station", f"http://{ns.host_ip}:{port}", ...], env=env)
        ns.cut()                                       # the cluster's link is down (cable pulled)
        ns.restore()                                   # and back

Inside the namespace only `lo` and the veth peer exist, with a default route through this side, so a
process there reaches every address of this machine's root namespace (serve on 0.0.0.0, Icecast on
every interface) at `host_ip`, and nothing else. `cut()` sets the host side of the pair down: packets
stop both ways, sockets stay open (as when a 4G link drops), and `restore()` brings it back.

Names carry this process's pid (`bct-<pid>-<n>`, links `bt-<pid hex>-<n>h`), so two runs never
collide, and `sweep_stale()` (run before each new namespace) removes what a killed run left: a
namespace whose pid is no longer alive goes, and its veth pair with it. The /30 of each namespace is
chosen under a file lock among those no address of this machine uses.

Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) and iproute2's `ip`; `netns_available()` says why not
otherwise, and the fixture skips with that reason.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

IP = shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip") if os.path.exists(p)), None)
NET = ipaddress.ip_network("10.77.0.0/16")
PREFIX = "bct"
_NAME = re.compile(rf"^{PREFIX}-(\d+)-(\d+)$")
_LINK = re.compile(r"^bt-([0-9a-f]+)-([0-9a-f]+)[hp]$")
_LOCK = Path(tempfile.gettempdir()) / "broadcaster-netns.lock"
_CAP_SYS_ADMIN, _CAP_NET_ADMIN = 21, 12
_counter = 0
_available: tuple[bool, str] | None = None


class NetnsError(RuntimeError):
    """An `ip` command failed (its stderr in the message)."""


def _ip(*args: str, check: bool = True, timeout: float = 20.0) -> subprocess.CompletedProcess:
    if IP is None:
        raise NetnsError("`ip` (iproute2) is not installed")
    run = subprocess.run([IP, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and run.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: exit {run.returncode}: {run.stderr.strip()}")
    return run


def _has_caps(*bits: int) -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                eff = int(line.split()[1], 16)
                return all(eff >> b & 1 for b in bits)
    except (OSError, ValueError):
        pass
    return os.geteuid() == 0


def netns_available() -> tuple[bool, str]:
    """(True, "") when namespaces with a veth pair can be made here, else (False, why): checked once,
    by really making (and removing) a namespace and a veth pair."""
    global _available
    if _available is not None:
        return _available
    if not sys.platform.startswith("linux"):
        _available = (False, "network namespaces are a Linux feature")
    elif IP is None:
        _available = (False, "`ip` not found: install the Debian package iproute2")
    elif not _has_caps(_CAP_SYS_ADMIN, _CAP_NET_ADMIN):
        _available = (False, "network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN); this run has neither")
    else:
        try:
            with NetNamespace("probe") as ns:  # `ip netns exec` needs a mount namespace and /sys too
                probe = subprocess.run(ns.command(["true"]), capture_output=True, text=True, timeout=20)
                if probe.returncode != 0:
                    raise NetnsError(f"ip netns exec: exit {probe.returncode}: {probe.stderr.strip()}")
            _available = (True, "")
        except (NetnsError, OSError, subprocess.SubprocessError) as exc:
            _available = (False, f"a network namespace with a veth pair could not be made here: {exc}")
    return _available


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Remove namespaces and stray veth links left by test runs whose process is gone; their names."""
    removed = []
    listing = _ip("netns", "list", check=False).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        m = _NAME.match(name)
        if m and not _pid_alive(int(m.group(1))):
            if _ip("netns", "del", name, check=False).returncode == 0:
                removed.append(name)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        parts = line.split(":", 2)
        if len(parts) < 2:
            continue
        link = parts[1].strip().split("@")[0]
        m = _LINK.match(link)
        if m and not _pid_alive(int(m.group(1), 16)):
            if _ip("link", "del", link, check=False).returncode == 0:
                removed.append(link)
    return removed


def _used_subnets() -> set[int]:
    """The N of every 10.77.N.x address of this machine (root namespace)."""
    used = set()
    for line in _ip("-o", "-4", "addr", "show", check=False).stdout.splitlines():
        for word in line.split():
            if "/" in word:
                try:
                    address = ipaddress.ip_interface(word).ip
                except ValueError:
                    continue
                if address in NET:
                    used.add(address.packed[2])
    return used


class NetNamespace:
    """One namespace + veth pair: `host_ip` (this side) ↔ `peer_ip` (inside). A context manager;
    close() is idempotent and always removes both."""

    def __init__(self, label: str = "rx") -> None:
        global _counter
        _counter += 1
        self.label = label
        self.index = _counter
        pid = os.getpid()
        self.name = f"{PREFIX}-{pid}-{self.index}"
        self.host_if = f"bt-{pid:x}-{self.index:x}h"
        self.peer_if = f"bt-{pid:x}-{self.index:x}p"
        self.subnet: int | None = None
        self.is_cut = False
        self._made_netns = False
        self._made_link = False
        self.processes: list[subprocess.Popen] = []

    # ------------------------------------------------------------------ addresses
    @property
    def host_ip(self) -> str:
        """This side's address: what a process inside uses to reach serve and Icecast."""
        return f"10.77.{self.subnet}.1"

    @property
    def peer_ip(self) -> str:
        return f"10.77.{self.subnet}.2"

    # ------------------------------------------------------------------ life
    def __enter__(self) -> "NetNamespace":
        return self.create()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def create(self) -> "NetNamespace":
        sweep_stale()
        try:
            with open(_LOCK, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # two runs never pick the same /30
                used = _used_subnets()
                self.subnet = next((n for n in range(1, 255) if n not in used), None)
                if self.subnet is None:
                    raise NetnsError("no free 10.77.N.0/30 left for a test namespace")
                _ip("netns", "add", self.name)
                self._made_netns = True
                _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.peer_if)
                self._made_link = True
                _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _ip("link", "set", self.peer_if, "netns", self.name)
            inside = ("netns", "exec", self.name, IP)
            _ip(*inside, "link", "set", "lo", "up")
            _ip(*inside, "addr", "add", f"{self.peer_ip}/30", "dev", self.peer_if)
            _ip(*inside, "link", "set", self.peer_if, "up")
            _ip(*inside, "route", "add", "default", "via", self.host_ip)
            _ip("link", "set", self.host_if, "up")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop what run() started that still runs, then remove the namespace and the veth pair."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        if self._made_netns:
            _ip("netns", "del", self.name, check=False)  # takes the peer, and so the pair, with it
            self._made_netns = False
        if self._made_link:
            if _ip("link", "show", self.host_if, check=False).returncode == 0:
                _ip("link", "del", self.host_if, check=False)
            self._made_link = False

    def exists(self) -> bool:
        """The namespace or its host-side link is still there."""
        names = [line.split()[0] for line in _ip("netns", "list", check=False).stdout.splitlines() if line.split()]
        return self.name in names or _ip("link", "show", self.host_if, check=False).returncode == 0

    # ------------------------------------------------------------------ use
    def command(self, argv: Sequence[str]) -> list[str]:
        """argv run inside the namespace (`ip netns exec NAME …` execs it: the pid is the program's)."""
        return [IP, "netns", "exec", self.name, *map(str, argv)]

    def run(self, argv: Sequence[str], env: dict | None = None, **popen) -> subprocess.Popen:
        """Start argv inside the namespace (a Popen; killed by close() if still running)."""
        proc = subprocess.Popen(self.command(argv), env=env, **popen)
        self.processes.append(proc)
        return proc

    def cut(self) -> None:
        """The link goes down (the host side): nothing passes either way until restore()."""
        _ip("link", "set", self.host_if, "down")
        self.is_cut = True

    def restore(self) -> None:
        _ip("link", "set", self.host_if, "up")
        self.is_cut = False

    def __repr__(self) -> str:
        return f"NetNamespace({self.name!r}, {self.host_if} {self.host_ip if self.subnet else '?'})"


@pytest.fixture
def netns() -> Iterator[Callable[..., NetNamespace]]:
    """A factory of namespaces (`ns = netns()`), every one removed at teardown, pass or fail;
    skips with the reason where namespaces cannot be made."""
    ok, reason = netns_available()
    if not ok:
        pytest.skip(reason)
    made: list[NetNamespace] = []

    def make(label: str = "rx") -> NetNamespace:
        ns = NetNamespace(label)
        made.append(ns)  # before create(): a half-made one is removed too
        return ns.create()

    try:
        yield make
    finally:
        for ns in made:
            ns.close()


__all__ = ["NetNamespace", "NetnsError", "netns", "netns_available", "sweep_stale"]

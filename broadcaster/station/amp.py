"""Amplifier control: optional commands run before and after a slot.

Many stations switch the power amplifier with a relay board or a smart plug driven by a
small program; the station configures its command lines (`amp_on_command`,
`amp_off_command`). A command that fails, hangs or is missing is reported and never
stops the broadcast: the officer can still switch the amplifier by hand.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandOutcome:
    """How one amplifier command went."""

    command: str
    ok: bool
    reason: str | None = None


def _argv(command: str) -> list[str] | str:
    # Windows parses its own command lines (CreateProcess); POSIX needs a list for shell=False
    return command if sys.platform == "win32" else shlex.split(command)


def run_command(command: str, *, timeout_s: float) -> CommandOutcome:
    """Run one command line without a shell, with a timeout; never raises."""
    try:
        args = _argv(command)
    except ValueError as exc:  # unbalanced quotes
        return CommandOutcome(command, False, f"Lệnh không hợp lệ: {exc}")
    if not args:
        return CommandOutcome(command, False, "Lệnh trống")
    try:
        run = subprocess.run(
            args,
            shell=False,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandOutcome(command, False, f"Lệnh không xong sau {timeout_s:g} giây")
    except OSError as exc:
        return CommandOutcome(command, False, f"Không chạy được lệnh: {exc.strerror or exc}")
    if run.returncode != 0:
        tail = run.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {tail[-1]}" if tail else ""
        return CommandOutcome(command, False, f"Lệnh trả mã lỗi {run.returncode}{detail}")
    return CommandOutcome(command, True)


class Amplifier:
    """Switches the amplifier around a slot. With no commands configured it does nothing."""

    def __init__(
        self,
        *,
        on_command: str | None = None,
        off_command: str | None = None,
        preroll_s: float = 0.0,
        timeout_s: float = 15.0,
        runner: Callable[..., CommandOutcome] = run_command,
    ) -> None:
        self.on_command = (on_command or "").strip() or None
        self.off_command = (off_command or "").strip() or None
        self.preroll_s = max(0.0, float(preroll_s)) if self.on_command else 0.0
        self.timeout_s = float(timeout_s)
        self._runner = runner

    @classmethod
    def from_settings(cls, settings) -> Amplifier:
        """The amplifier the station's settings describe."""
        return cls(
            on_command=settings.amp_on_command,
            off_command=settings.amp_off_command,
            preroll_s=settings.amp_preroll_s,
            timeout_s=settings.amp_command_timeout_s,
        )

    def _run(self, command: str | None, what: str) -> CommandOutcome | None:
        if command is None:
            return None
        outcome = self._runner(command, timeout_s=self.timeout_s)
        if outcome.ok:
            log.info("amplifier %s: %s", what, command)
        else:
            log.warning("amplifier %s failed (%s): %s", what, command, outcome.reason)
        return outcome

    def switch_on(self) -> CommandOutcome | None:
        """Run the on-command (None when there is none)."""
        return self._run(self.on_command, "on")

    def switch_off(self) -> CommandOutcome | None:
        """Run the off-command (None when there is none)."""
        return self._run(self.off_command, "off")


__all__ = ["Amplifier", "CommandOutcome", "run_command"]

"""The contract between the station and a player, checked on the real Player and on every fake.

The station, the urgent desk and the serve runtime use a player only through
`broadcaster.playout.protocol.PlayerProtocol`; whatever they rely on is checked here on
each implementation: the real Player on the fake card, the ALSA file card and the
PulseAudio null sink (the sinks of tests/playout), and the fakes the scheduling tests air
with (FakePlayer, LoggingPlayer). A fake that drifts from the real player fails here.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playout_helpers import tone, write_wav

from broadcaster.playout.outcome import Outcome, PlayResult
from broadcaster.playout.protocol import PlayerProtocol
from broadcaster.scheduling.clock import FakeClock

TESTS = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    # the scheduling fakes, loaded by path under a unique name (tests/ folders are not packages)
    if name not in sys.modules:
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sched = _load("contract_sched_helpers", TESTS / "scheduling" / "sched_helpers.py")
onair_day = _load("contract_onair_day", TESTS / "station" / "test_runtime_day.py")
# the sinks of tests/playout, by path: a bare `import conftest` may find another folder's
playout_conftest = _load("contract_playout_conftest", TESTS / "playout" / "conftest.py")

REAL = ["memory", "alsa-file", pytest.param("pulse", marks=pytest.mark.paced)]
FAKES = ["FakePlayer", "LoggingPlayer"]
FAKE_CLASSES = {"FakePlayer": sched.FakePlayer, "LoggingPlayer": onair_day.LoggingPlayer}


class Under:
    """A player under test and how to give it an item of a given length."""

    def __init__(self, player, item) -> None:
        self.player = player
        self.item = item  # item(path, seconds) -> path of a playable file that lasts `seconds`


@pytest.fixture(params=REAL + FAKES)
def under(request, tmp_path):
    kind = request.param
    if kind in FAKE_CLASSES:
        clock = FakeClock(datetime(2026, 11, 28, tzinfo=timezone.utc))
        durations: dict[str, float] = {}
        if kind == "LoggingPlayer":
            player = onair_day.LoggingPlayer(clock, durations, tmp_path / "trace.txt")
        else:
            player = sched.FakePlayer(clock, durations)

        def fake_item(path: Path, seconds: float) -> Path:
            sched.write_wav(path, 0.01)
            durations[str(path)] = seconds
            return path

        yield Under(player, fake_item)
        player.close()
        return
    sink = playout_conftest._make_sink(kind, request, tmp_path)
    try:
        player = sink.make_player(fade_ms=20, block_frames=1024)

        def real_item(path: Path, seconds: float) -> Path:
            return write_wav(path, tone(440, seconds))

        yield Under(player, real_item)
    finally:
        sink.close_all()


# ---------------------------------------------------------------------------- static
def _members(cls) -> dict[str, object]:
    names = [n for n in dir(PlayerProtocol) if not n.startswith("_")]
    names += list(getattr(PlayerProtocol, "__annotations__", {}))
    return {n: inspect.getattr_static(cls, n, None) for n in sorted(set(names))}


def _signature(member) -> inspect.Signature | None:
    if isinstance(member, property) or member is None:
        return None
    if callable(member):
        return inspect.signature(member)
    return None


def _protocol_classes():
    from broadcaster.playout.player import Player

    return [Player, *FAKE_CLASSES.values()]


@pytest.mark.parametrize("cls", _protocol_classes(), ids=lambda c: c.__name__)
def test_implements_every_member_with_the_protocols_signature(cls):
    wanted = _members(PlayerProtocol)
    assert wanted, "the Protocol declares nothing"
    for name, spec in wanted.items():
        assert hasattr(cls, name) or name in getattr(cls, "__annotations__", {}) or name in _instance_attrs(cls), (
            f"{cls.__name__} lacks {name}"
        )
        want = _signature(spec)
        if want is None:
            continue
        got = _signature(inspect.getattr_static(cls, name, None))
        assert got is not None, f"{cls.__name__}.{name} is not a method"
        assert list(got.parameters) == list(want.parameters), f"{cls.__name__}.{name}{got} != {want}"
        for pname, param in want.parameters.items():
            assert got.parameters[pname].kind == param.kind, f"{cls.__name__}.{name}: {pname} kind differs"
            has_default = got.parameters[pname].default is not inspect.Parameter.empty
            assert has_default == (param.default is not inspect.Parameter.empty), (
                f"{cls.__name__}.{name}: default of {pname} differs"
            )


def _instance_attrs(cls) -> set[str]:
    # attributes a class (or its base) sets in __init__ (is_open on FakePlayer) count as members
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__ or klass is object:
            continue
        for line in inspect.getsource(klass.__init__).splitlines():
            stripped = line.strip()
            if stripped.startswith("self.") and "=" in stripped:
                names.add(stripped[5:].split("=")[0].split(":")[0].strip())
    return names


def test_the_protocol_documents_every_member():
    for name in [n for n in vars(PlayerProtocol) if not n.startswith("_")]:
        member = vars(PlayerProtocol)[name]
        doc = member.fget.__doc__ if isinstance(member, property) else getattr(member, "__doc__", None)
        assert doc and doc.strip(), f"PlayerProtocol.{name} has no docstring"


# ---------------------------------------------------------------------------- behaviour
def test_is_a_player_protocol(under):
    assert isinstance(under.player, PlayerProtocol)


def test_a_short_item_airs(under, tmp_path):
    path = under.item(tmp_path / "short.wav", 0.3)
    player = under.player
    seen = {}
    player.open()
    assert player.is_open

    def on_start() -> None:
        seen["now_playing"] = player.now_playing

    result = player.play(path, on_start=on_start)
    assert isinstance(result, PlayResult)
    assert result.outcome is Outcome.AIRED, result
    assert seen["now_playing"] == path, "now_playing names the file while it plays"
    assert player.now_playing is None and player.now_playing_label is None
    assert result.started_at <= result.ended_at and result.started_at.tzinfo is not None


@pytest.mark.parametrize(
    "cause", [Outcome.URGENT_CUT, Outcome.SKIPPED, Outcome.PROGRAMME_STOPPED, Outcome.URGENT_STOPPED]
)
def test_interrupt_with_a_cause_ends_the_item_with_that_outcome(under, tmp_path, cause):
    path = under.item(tmp_path / "long.wav", 3.0)
    player = under.player
    player.open()
    # an interrupt sent from on_start on is never lost (the row is committed there)
    result = player.play(path, on_start=lambda: player.interrupt(cause))
    assert result.outcome is cause
    assert player.is_open and player.now_playing is None


def test_interrupt_while_idle_does_nothing(under, tmp_path):
    player = under.player
    player.open()
    player.interrupt(Outcome.SKIPPED)
    result = player.play(under.item(tmp_path / "after.wav", 0.2))
    assert result.outcome is Outcome.AIRED


def test_a_missing_file_fails_without_starting(under, tmp_path):
    player = under.player
    player.open()
    started = []
    result = player.play(tmp_path / "nowhere.wav", on_start=lambda: started.append(1))
    assert result.outcome is Outcome.FAILED and "nowhere.wav" in (result.detail or "")
    assert started == [] and player.is_open


def test_not_open_fails(under, tmp_path):
    player = under.player
    result = player.play(under.item(tmp_path / "item.wav", 0.2))
    assert result.outcome is Outcome.NOT_OPEN and result.frames == 0


def test_a_timeout_ends_the_item_as_a_stream_timeout(under, tmp_path):
    player = under.player
    player.open()
    result = player.play(under.item(tmp_path / "long.wav", 3.0), timeout=0.3)
    assert result.outcome is Outcome.TIMEOUT and result.seconds == pytest.approx(0.3)


def test_recoveries_and_failure_are_empty_on_a_healthy_player(under, tmp_path):
    player = under.player
    player.open()
    assert player.failed_at is None and player.failure_reason is None
    assert player.take_recoveries() == []
    assert isinstance(player.uses_portaudio, bool)
    player.close()
    assert not player.is_open


def test_an_unreachable_stream_fails(under, tmp_path):
    player = under.player
    player.open()
    result = player.play_stream(str(tmp_path / "gone.mp3"), duration_s=2.0, stall_s=2.0)
    assert result.outcome is Outcome.FAILED and "gone.mp3" in (result.detail or "")


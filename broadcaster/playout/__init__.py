"""Playout: the one thread that owns the output stream, and the sound card boundary.

`devices` is the only module that imports sounddevice (lazily); `player.Player` owns one
long-lived stream; `memory.MemoryCard` is the fake card for tests and dry runs. What the
station uses from a player is `protocol.PlayerProtocol`; what happened on air is an
`outcome.Outcome` inside a `PlayResult`.
"""

from .devices import DeviceInfo, list_devices, reinitialize_portaudio, resolve_device
from .outcome import DeviceFault, Outcome, PlayResult, TapFault
from .player import Player
from .protocol import PlayerProtocol

__all__ = [
    "DeviceFault",
    "DeviceInfo",
    "Outcome",
    "PlayResult",
    "Player",
    "PlayerProtocol",
    "TapFault",
    "list_devices",
    "reinitialize_portaudio",
    "resolve_device",
]

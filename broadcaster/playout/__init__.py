"""Playout: the one thread that owns the output stream, and the sound card boundary.

`devices` is the only module that imports sounddevice (lazily); `player.Player` owns one
long-lived stream; `memory.MemoryCard` is the fake card for tests and dry runs.
"""

from .devices import DeviceInfo, list_devices, reinitialize_portaudio, resolve_device
from .player import Player, PlayResult

__all__ = ["DeviceInfo", "PlayResult", "Player", "list_devices", "reinitialize_portaudio", "resolve_device"]

"""A local stand-in for Microsoft Edge's read-aloud service, speaking its websocket framing.

edge-tts runs its own code end to end against it: only ``edge_tts.communicate.WSS_URL`` is
pointed at this server (plain ws:// on loopback instead of wss:// to Bing). What the server
checks and answers is what the real service does, as edge_tts/communicate.py and drm.py read
and write it:

* the upgrade request carries ``TrustedClientToken``, ``ConnectionId``, ``Sec-MS-GEC`` (a token
  derived from the clock, rounded to 5 minutes) and ``Sec-MS-GEC-Version``; a token that does not
  match the server's clock gets HTTP 403 with a ``Date`` header, from which edge-tts corrects its
  clock skew and retries once;
* the client sends two text frames, ``Path:speech.config`` (JSON: the output format) and
  ``Path:ssml`` (the SSML with voice, prosody and the escaped text);
* the server answers with text frames ``turn.start`` and ``response``, binary frames whose first
  two bytes are the big-endian length of a header block (``...Path:audio\\r\\n``) followed by MP3
  data, an empty binary frame with no Content-Type (end of audio), ``audio.metadata`` (a
  SentenceBoundary) and ``turn.end``.

Modes: "ok"; "skewed" (the server's clock is hours ahead: the first attempt gets the 403 + Date,
the retry must carry a token for the server's time); "forbidden" (403 every time); "no_audio"
(a turn with no audio frame, also what any mode does for a voice the service does not know); "hang" (the websocket opens, the requests are read, nothing comes
back, until the test ends).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from xml.etree import ElementTree

from aiohttp import WSMsgType, web
from edge_tts.constants import SEC_MS_GEC_VERSION, TRUSTED_CLIENT_TOKEN
from edge_tts.drm import generate_sec_ms_gec_v2

PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
# what the service knows; for any other voice it ends the turn without audio, as Bing does
VOICES = {
    "Microsoft Server Speech Text to Speech Voice (vi-VN, HoaiMyNeural)",
    "Microsoft Server Speech Text to Speech Voice (vi-VN, NamMinhNeural)",
}
AUDIO_CHUNK = 1500  # the service streams MP3 in small binary frames; any split must decode the same


def text_frame(request_id: str, path: str, body: str, content_type: str = "application/json; charset=utf-8") -> str:
    """A service text frame: header lines, a blank line, the body."""
    return f"X-RequestId:{request_id}\r\nContent-Type:{content_type}\r\nPath:{path}\r\n\r\n{body}"


def audio_frame(request_id: str, data: bytes, *, content_type: str | None = "audio/mpeg") -> bytes:
    """A binary frame: 2-byte big-endian header length, the header block (ending in CRLF), MP3 data."""
    headers = f"X-RequestId:{request_id}\r\n"
    if content_type is not None:
        headers += f"Content-Type:{content_type}\r\nX-StreamId:{uuid.uuid4().hex.upper()}\r\n"
    headers += "Path:audio\r\n"
    block = headers.encode("ascii")
    return len(block).to_bytes(2, "big") + block + data


def parse_text_frame(frame: str) -> tuple[dict[str, str], str]:
    """Headers and body of a client text frame."""
    head, _, body = frame.partition("\r\n\r\n")
    headers = dict(line.split(":", 1) for line in head.split("\r\n"))
    return headers, body


@dataclass
class Request:
    """One synthesis the client asked for, as the server understood it."""

    config: dict
    voice: str
    rate: str
    pitch: str
    volume: str
    text: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class EdgeServer:
    """The fake service on 127.0.0.1 in a thread of its own (its own event loop)."""

    mp3: bytes
    mode: str = "ok"
    skew_s: float = 0.0
    requests: list[Request] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the Sec-MS-GEC tokens answered with 403
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._release = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="edge-fake", daemon=True)

    # -- lifecycle
    def start(self) -> EdgeServer:
        self._thread.start()
        if not self._started.wait(30):
            raise RuntimeError("fake Edge server did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._release.set)
        self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(30)

    @property
    def url(self) -> str:
        """What replaces edge_tts.communicate.WSS_URL (edge-tts appends &ConnectionId=... to it)."""
        return f"ws://127.0.0.1:{self.port}{PATH}?TrustedClientToken={TRUSTED_CLIENT_TOKEN}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._started.set()
        await self._stop_event.wait()
        await runner.cleanup()

    # -- the service
    def _now(self) -> float:
        return time.time() + self.skew_s

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        if query.get("TrustedClientToken") != TRUSTED_CLIENT_TOKEN or not re.fullmatch(
            r"[0-9a-f]{32}", query.get("ConnectionId", "")
        ):
            return web.Response(status=400, text="bad request")
        token = query.get("Sec-MS-GEC", "")
        if query.get("Sec-MS-GEC-Version") != SEC_MS_GEC_VERSION:
            return web.Response(status=400, text="bad version")
        if self.mode == "forbidden" or token != generate_sec_ms_gec_v2(self._now()):
            self.refused.append(token)
            return web.Response(status=403, headers={"Date": formatdate(self._now(), usegmt=True)})
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        config: dict = {}
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            headers, body = parse_text_frame(message.data)
            if headers.get("Path") == "speech.config":
                config = json.loads(body)
            elif headers.get("Path") == "ssml":
                self.requests.append(self._understood(config, body, query, dict(request.headers)))
                await self._answer(ws, headers["X-RequestId"])
                if self.mode == "hang":
                    await self._release.wait()
                break
        await ws.close()
        return ws

    @staticmethod
    def _understood(config: dict, ssml: str, query: dict[str, str], headers: dict[str, str]) -> Request:
        ns = {"s": "http://www.w3.org/2001/10/synthesis"}
        root = ElementTree.fromstring(ssml)
        voice = root.find("s:voice", ns)
        prosody = voice.find("s:prosody", ns)
        return Request(
            config=config, voice=voice.get("name"), rate=prosody.get("rate"), pitch=prosody.get("pitch"),
            volume=prosody.get("volume"), text=prosody.text or "", query=query, headers=headers,
        )

    async def _answer(self, ws: web.WebSocketResponse, request_id: str) -> None:
        if self.mode == "hang":
            return
        await ws.send_str(text_frame(request_id, "turn.start", '{"context":{"serviceTag":"fake"}}'))
        await ws.send_str(text_frame(request_id, "response", '{"context":{"serviceTag":"fake"},"audio":{"type":"inline"}}'))
        if self.mode != "no_audio" and self.requests[-1].voice in VOICES:
            for start in range(0, len(self.mp3), AUDIO_CHUNK):
                await ws.send_bytes(audio_frame(request_id, self.mp3[start:start + AUDIO_CHUNK]))
            await ws.send_bytes(audio_frame(request_id, b"", content_type=None))
            metadata = {"Metadata": [{"Type": "SentenceBoundary", "Data": {
                "Offset": 1000000, "Duration": 8750000,
                "text": {"Text": self.requests[-1].text, "Length": len(self.requests[-1].text),
                         "BoundaryType": "SentenceBoundary"}}}]}
            await ws.send_str(text_frame(request_id, "audio.metadata", json.dumps(metadata, ensure_ascii=False)))
        await ws.send_str(text_frame(request_id, "turn.end", '{"context":{"serviceTag":"fake"}}'))


def edge_service_factory(mp3: bytes, monkeypatch):
    """(start, stop_all): start(mode, skew_s=) runs a fake service and points edge-tts at it.

    edge-tts keeps the skew it learnt from a 403 in a class attribute (process-wide): it is reset
    here and monkeypatch puts it back after the test.
    """
    import edge_tts.communicate
    from edge_tts.drm import DRM

    monkeypatch.setattr(DRM, "clock_skew_seconds", 0.0)
    servers: list[EdgeServer] = []

    def start(mode: str = "ok", *, skew_s: float = 0.0) -> EdgeServer:
        server = EdgeServer(mp3, mode=mode, skew_s=skew_s).start()
        servers.append(server)
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", server.url)
        return server

    def stop_all() -> None:
        for server in servers:
            server.stop()

    return start, stop_all

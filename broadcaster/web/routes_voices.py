"""Hearing the voices (issue 12 item 4): one sentence rendered in every installed voice, so an
editor can pick the bulletin's voice by ear in the bulletin form.

Each voice is asked on its own engine with no fallback (an Edge voice that cannot be reached says
so instead of playing espeak-ng under Edge's name). The renders are the speech cache's files;
they are served by their cache key only, never by a path from the request.
"""

from __future__ import annotations

import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from ..exceptions import BroadcasterError, NotFoundError
from ..models import Role
from .security import CurrentUser, require_role, require_user, station_of
from .templating import render

router = APIRouter()

MAX_SAMPLE_CHARS = 300
KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Sample:
    label: str
    online: bool
    key: str | None = None  # the render's cache key (its file name without .wav)
    problem: str | None = None


def _sample(station, voice, text: str) -> Sample:
    try:
        result = station.speak(text, engine=voice.engine, voice=voice.id)
    except BroadcasterError as exc:
        # the engine's own reason ("edge: lỗi gọi Edge TTS: …") without the chain's preamble
        failures = exc.fields.get("failures") or ()
        reason = str(failures[0]).split(": ", 1)[-1] if failures else exc.message
        return Sample(voice.label, voice.online, problem=reason.splitlines()[0])
    return Sample(voice.label, voice.online, key=result.path.stem)


@router.post("/voices/preview")
async def voices_preview(request: Request, user: CurrentUser = Depends(require_role(Role.editor))):
    """htmx: the sample sentence in every installed voice (audio players, or why a voice cannot)."""
    form = await request.form()
    text = unicodedata.normalize("NFC", str(form.get("sample") or "")).strip()
    context: dict = {"samples": [], "error": None}
    if not text:
        context["error"] = "Hãy gõ một câu để nghe thử"
    elif len(text) > MAX_SAMPLE_CHARS:
        context["error"] = f"Câu nghe thử dài quá {MAX_SAMPLE_CHARS} ký tự"
    else:
        station = station_of(request)
        voices = station.voices()
        # all voices at once: an online voice that times out must not hold the offline ones back
        with ThreadPoolExecutor(max_workers=max(1, min(4, len(voices)))) as pool:
            context["samples"] = list(pool.map(lambda v: _sample(station, v, text), voices))
    return render(request, "voice_samples.html", context, status_code=400 if context["error"] else 200)


@router.get("/voices/sample/{name}")
def voice_sample(request: Request, name: str, user: CurrentUser = Depends(require_user)):
    """One rendered sample, by its cache key."""
    key = name.removesuffix(".wav")
    path = station_of(request).synthesizer.cache_dir / f"{key}.wav"
    if not KEY.match(key) or not path.is_file():
        raise NotFoundError("Không tìm thấy tệp nghe thử")
    return FileResponse(path, media_type="audio/wav")

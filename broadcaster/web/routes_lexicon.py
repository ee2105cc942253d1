"""The "Cách đọc" view's marking of unknown tokens, and adding a reading to the station lexicon.

``reading_view(request, text)`` is the template context of bulletin_reading.html: the spoken text
cut into pieces, where each piece that had to be spelled letter by letter carries the token it was
written as (the template marks it), and the list of those tokens. ``POST /lexicon/entries`` adds one
reading to ``<data_dir>/lexicon.tsv`` and answers with the reading view redrawn (htmx), so an editor
fixes a token in one step without leaving the bulletin.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from ..exceptions import InputError
from ..models import Role
from ..speech.check import read_and_check
from ..speech.lexicon import Lexicon
from ..station import bulletins
from .security import CurrentUser, require_role, station_of
from .templating import flash, render

router = APIRouter()
editor_only = require_role(Role.editor)
MAX_READING_CHARS = 20000


def _pieces(spoken: str, found) -> list[dict]:
    """Spoken text as pieces; a piece read from an unknown token has "token" set (found in order)."""
    pieces: list[dict] = []
    lines = spoken.split("\n")
    by_line: dict[int, list] = {}
    for item in found:
        by_line.setdefault(item.line, []).append(item)
    for number, line in enumerate(lines, start=1):
        position = 0
        for item in by_line.get(number, []):
            start = line.find(item.reading, position)
            if start < 0:
                continue  # read differently after a later rule: listed below, not marked
            pieces.append({"text": line[position:start], "token": None})
            pieces.append({"text": item.reading, "token": item.token})
            position = start + len(item.reading)
        pieces.append({"text": line[position:] + ("\n" if number < len(lines) else ""), "token": None})
    return [piece for piece in pieces if piece["text"]]


def reading_view(request: Request, text: str, *, bulletin_id: int | None = None) -> dict:
    """Context of bulletin_reading.html for `text` with the station's lexicon."""
    station = station_of(request)
    text = text or ""
    # past MAX_READING_CHARS only the first whole lines are read (a line cut in two would read
    # differently, "15/3" as "15/"), with a note that says so
    truncated = len(text) > MAX_READING_CHARS
    if truncated:
        head = text[:MAX_READING_CHARS]
        text = head[: head.rfind("\n")] if "\n" in head else head
    if not text.strip():
        return {"spoken": "", "pieces": [], "unknown": [], "reading_bulletin_id": bulletin_id}
    spoken, found = read_and_check(text, station.lexicon())  # one pass, exactly what normalize() gives
    unique = list({item.token: item for item in found}.values())
    pieces = _pieces(spoken, found)
    if truncated:
        count = f"{len(text):,}".replace(",", ".")
        note = f"\n… (Chỉ hiện phần đầu, {count} ký tự đầu tiên; máy đọc cả bản tin.)"
        spoken += note
        pieces.append({"text": note, "token": None})
    return {"spoken": spoken, "pieces": pieces, "unknown": unique, "reading_bulletin_id": bulletin_id}


@router.post("/lexicon/entries")
async def lexicon_add(request: Request, user: CurrentUser = Depends(editor_only)):
    """Add (or replace) a station lexicon entry from the reading view; redraw that view."""
    form = await request.form()
    written, spoken = str(form.get("written") or ""), str(form.get("spoken") or "")
    raw_id = str(form.get("bulletin_id") or "").strip()
    bulletin_id = int(raw_id) if raw_id.isascii() and raw_id.isdecimal() else None
    if bulletin_id is not None:
        with Session(station_of(request).db) as session:
            text = bulletins.get(session=session, bulletin_id=bulletin_id).text
    else:
        text = str(form.get("text") or "")
    error = notice = None
    try:
        # A fresh copy: the station's cached lexicon changes only once the file is written.
        lexicon = Lexicon.load(station_of(request).settings.lexicon_path)
        lexicon.add(written, spoken)
        lexicon.save()
        notice = f"Đã thêm vào từ điển của đài: {written.strip()} → {spoken.strip()}"
    except InputError as exc:
        error = f"Chưa thêm được: {exc}"
    except OSError:
        error = "Chưa thêm được: không ghi được từ điển của đài"
    if request.headers.get("hx-request") != "true":
        flash(request, error or notice)
        return RedirectResponse(f"/bulletins/{bulletin_id}" if bulletin_id else "/bulletins/new", status_code=303)
    context = reading_view(request, text, bulletin_id=bulletin_id)
    context.update(lexicon_error=error, lexicon_notice=notice)
    return render(request, "bulletin_reading.html", context)  # 200 either way: htmx swaps only 2xx

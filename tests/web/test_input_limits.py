"""Input limits on the web console (issue 9, item 4): request bodies (chunked too) are refused with
413 as soon as they pass the limit, without reading the rest; a malformed or oversized .docx gets one
Vietnamese line; an over-long title or text is refused before anything is stored, and a bad row
already in the database does not break the bulletin list."""

from __future__ import annotations

import asyncio
import io
import zipfile

from sqlalchemy import text as sql
from sqlmodel import Session, select

from broadcaster.models import Bulletin

CHUNK = 64 * 1024


def _drive(app, method: str, path: str, *, total: int, headers: list[tuple[bytes, bytes]] | None = None):
    """Call the ASGI app directly with a chunked body of `total` bytes (no Content-Length), like
    uvicorn does for `Transfer-Encoding: chunked`. Returns (status, body text, bytes the app read)."""
    sent = {"bytes": 0}
    messages: list[dict] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"transfer-encoding", b"chunked"),
                    (b"content-type", b"multipart/form-data; boundary=xyz")] + (headers or []),
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {},
    }
    body = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.docx\"\r\n\r\n"

    async def receive():
        if sent["bytes"] >= total:
            await asyncio.sleep(3600)  # a client that has sent everything waits for the answer
        chunk = body if sent["bytes"] == 0 else b"x" * CHUNK
        sent["bytes"] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": sent["bytes"] < total}

    async def send(message):
        messages.append(message)

    async def run():
        await asyncio.wait_for(app(scope, receive, send), timeout=120)

    asyncio.run(run())
    start = next(m for m in messages if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body").decode("utf-8")
    return start["status"], text, sent["bytes"]


def test_chunked_body_to_login_is_refused_before_it_is_spooled(app):
    status, text, read = _drive(app, "POST", "/login", total=8 * 1024 * 1024)
    assert status == 413, (status, text[:200])
    assert "quá lớn" in text
    assert read <= 2 * 1024 * 1024 + CHUNK  # stopped reading at the small-form limit


def test_chunked_upload_is_refused_at_the_docx_limit(app, as_role):
    editor = as_role("editor")  # logged in: the route reads the body (the login redirect would not)
    cookie = "; ".join(f"{name}={value}" for name, value in editor.cookies.items())
    status, text, read = _drive(app, "POST", "/bulletins/import-docx", total=40 * 1024 * 1024,
                                headers=[(b"cookie", cookie.encode()), (b"x-csrf-token", editor.csrf.encode())])
    assert status == 413, (status, text[:200])
    assert "quá lớn" in text
    assert read <= 12 * 1024 * 1024 + CHUNK


def test_declared_length_over_the_form_limit_is_refused(anon):
    r = anon.post("/login", content=b"x" * (3 * 1024 * 1024),
                  headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "quá lớn" in r.text


def _docx(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _real_docx(paragraphs: list[str]) -> bytes:
    from docx import Document

    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _with_document_xml(xml: bytes) -> bytes:
    """A real .docx whose word/document.xml is replaced by `xml`."""
    src = zipfile.ZipFile(io.BytesIO(_real_docx(["Tiêu đề", "Nội dung"])))
    return _docx({n: (xml if n == "word/document.xml" else src.read(n)) for n in src.namelist()})


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>&lol4;</w:t></w:r></w:p></w:body></w:document>"""


def _corrupt_deflate() -> bytes:
    data = bytearray(_real_docx(["Tiêu đề", "Nội dung " * 200]))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + min(info.compress_size, 200)):
        data[i] ^= 0x5A
    return bytes(data)


def test_malformed_docx_gets_one_line_not_a_500(as_role):
    editor = as_role("editor")
    cases = {
        "bad xml": _with_document_xml(b"<w:document><w:body><unclosed>"),
        "entity bomb": _with_document_xml(BOMB),
        "corrupt deflate": _corrupt_deflate(),
        "not a zip": b"\x00\x01 hello this is not a zip file" * 10,
        "zip without word": _docx({"hello.txt": b"hi"}),
    }
    for name, data in cases.items():
        r = editor.form("/bulletins/import-docx", files={"file": ("tb.docx", data, "application/octet-stream")})
        assert r.status_code == 400, (name, r.status_code, r.text[-300:])
        assert "docx" in r.text.lower(), name
        assert "lollollol" not in r.text, name


def test_docx_that_expands_too_much_is_refused(as_role):
    editor = as_role("editor")
    # 60 MB of zeros compress to ~60 KB: refused by its real uncompressed size, not its file size
    src = zipfile.ZipFile(io.BytesIO(_real_docx(["Tiêu đề", "Nội dung"])))
    members = {n: src.read(n) for n in src.namelist()}
    members["word/media/padding.bin"] = b"\x00" * (60 * 1024 * 1024)
    data = _docx(members)
    assert len(data) < 1024 * 1024
    r = editor.form("/bulletins/import-docx", files={"file": ("tb.docx", data, "application/octet-stream")})
    assert r.status_code == 400, r.text[-300:]
    assert "giải nén" in r.text
    # 25 MB of document XML (under the package limit): refused before the XML parser holds it all
    xml = members["word/document.xml"]
    at = xml.index(b"<w:body>") + len(b"<w:body>")
    members = {n: src.read(n) for n in src.namelist()}
    members["word/document.xml"] = xml[:at] + b"<w:p><w:r><w:t>" + b"A" * (25 * 1024 * 1024) + b"</w:t></w:r></w:p>" + xml[at:]
    r = editor.form("/bulletins/import-docx", files={"file": ("tb.docx", _docx(members), "application/octet-stream")})
    assert r.status_code == 400, r.text[-300:]
    assert "giải nén" in r.text


def test_docx_with_too_much_text_is_refused(as_role):
    editor = as_role("editor")
    data = _real_docx(["Tiêu đề"] + ["Một đoạn văn khá dài để vượt giới hạn. " * 50] * 100)  # ~200,000 chars
    r = editor.form("/bulletins/import-docx", files={"file": ("tb.docx", data, "application/octet-stream")})
    assert r.status_code == 400, r.text[-300:]
    assert "100000" in r.text.replace(".", "").replace(",", "")


def test_long_title_and_text_are_refused_before_storing(station, as_role):
    editor = as_role("editor")
    r = editor.form("/bulletins", {"title": "T" * 400, "text": "Nội dung", "bulletin_class": "thong_thuong",
                                   "frequency": "every_slot"})
    assert r.status_code == 400 and "300" in r.text
    r = editor.form("/bulletins", {"title": "Tiêu đề", "text": "chữ " * 30000, "bulletin_class": "thong_thuong",
                                   "frequency": "every_slot"})
    assert r.status_code == 400, r.status_code
    assert "100000" in r.text.replace(".", "").replace(",", "")
    with Session(station.db) as s:
        assert s.exec(select(Bulletin)).all() == []


def test_a_bad_row_already_stored_does_not_break_the_list(station, as_role):
    with station.db.begin() as conn:  # a row written by an older version, before titles were checked
        conn.execute(sql("INSERT INTO bulletin (title, text, bulletin_class, frequency, status, created_at) "
                         "VALUES (:t, 'x', 'normal', 'every_slot', 'draft', '2026-01-01 00:00:00')"),
                     {"t": "T" * 400})
    page = as_role("editor").get("/bulletins")
    assert page.status_code == 200, page.text[-300:]
    assert "TTTTTTTTTT" in page.text
    assert len(station.list_bulletins()) == 1


def test_chunked_upload_over_a_real_socket_is_answered_413_without_reading_the_rest(station):
    """Through uvicorn, as `serve` runs it: the client is still sending when the 413 comes back."""
    import select
    import socket
    import threading
    import time

    import uvicorn

    from broadcaster.web.app import create_app

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    server = uvicorn.Server(uvicorn.Config(create_app(station), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    limit_to_send = 64 * 1024 * 1024
    sent, answer = 0, b""
    try:
        with socket.create_connection(listener.getsockname(), timeout=30) as conn:
            conn.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n")
            pre = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
            frame = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
            conn.sendall(b"%x\r\n%s\r\n" % (len(pre), pre))
            while sent < limit_to_send and not select.select([conn], [], [], 0)[0]:
                try:
                    conn.sendall(frame)
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    break
                sent += CHUNK
            if sent >= limit_to_send:
                conn.sendall(b"0\r\n\r\n")
            while b"\r\n\r\n" not in answer:
                try:
                    data = conn.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                answer += data
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
    assert answer.startswith(b"HTTP/1.1 413"), (sent, answer[:120])
    assert sent < limit_to_send // 2, sent  # refused while the client was still sending

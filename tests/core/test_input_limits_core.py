"""Input limits in the services and clean library messages (issue 9, items 4 and 9)."""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql
from sqlmodel import Session, select

from broadcaster.station import bulletins
from broadcaster.station import documents
from broadcaster.exceptions import InputError
from broadcaster.models import Bulletin


def test_station_add_bulletin_checks_title_and_text_before_storing(station):
    with pytest.raises(InputError, match="300"):
        station.add_bulletin(title="T" * 400, text="Nội dung")
    with pytest.raises(InputError, match="100000"):
        station.add_bulletin(title="Dài", text="a" * (bulletins.MAX_TEXT_CHARS + 1))
    with pytest.raises(InputError, match="100000"):
        station.render_text("a" * (bulletins.MAX_TEXT_CHARS + 1))
    with Session(station.db) as s:
        assert s.exec(select(Bulletin)).all() == []
    ok = station.add_bulletin(title="T" * 300, text="a" * bulletins.MAX_TEXT_CHARS)  # the limits themselves pass
    assert len(ok.title) == 300


def test_rows_stored_before_the_limits_still_read(station):
    with station.db.begin() as conn:
        conn.execute(sql("INSERT INTO bulletin (title, text, bulletin_class, frequency, status, created_at, topic) "
                         "VALUES (:t, '', 'normal', 'every_slot', 'draft', '2026-01-01 00:00:00', :t)"),
                     {"t": "T" * 400})
    [row] = station.list_bulletins()
    assert station.get_bulletin(row.id).title == "T" * 400
    with Session(station.db) as s:
        assert bulletins.list_page(session=s).total == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thông báo".encode("utf-8"), "Thông báo"),
        (b"\xef\xbb\xbf" + "Thông báo".encode("utf-8"), "Thông báo"),
        ("Thông báo".encode("utf-16"), "Thông báo"),
        ("Thông báo".encode("utf-16-be").join([b"\xfe\xff", b""]), "Thông báo"),
        ("Thông báo".encode("utf-32"), "Thông báo"),
    ],
)
def test_text_files_in_utf8_or_with_a_bom_are_read(raw, expected):
    assert documents.decode_text_file(raw, "t.txt") == expected


@pytest.mark.parametrize("raw", ["Thông báo".encode("cp1258"), "café".encode("latin-1"),
                                 "Thông".encode("utf-16-le")])
def test_other_encodings_are_refused(raw):
    with pytest.raises(InputError, match="UTF-8"):
        documents.decode_text_file(raw, "t.txt")


def test_library_messages_lose_their_internals(station):
    from pydantic import BaseModel, ValidationError
    from sqlalchemy.exc import IntegrityError

    from broadcaster.exceptions import plain_message

    with pytest.raises(IntegrityError) as caught:
        with station.db.begin() as conn:
            conn.execute(sql("INSERT INTO bulletin (id, title, text, bulletin_class, frequency, status, created_at) "
                             "VALUES (1, 'a', 'b', 'normal', 'every_slot', 'draft', '2026-01-01'), "
                             "(1, 'a', 'b', 'normal', 'every_slot', 'draft', '2026-01-01')"))
    assert "sqlalche.me" in str(caught.value) and "[SQL" in str(caught.value)
    clean = plain_message(caught.value)
    assert clean == "UNIQUE constraint failed: bulletin.id"

    class Model(BaseModel):
        n: int

    with pytest.raises(ValidationError) as caught:
        Model(n="abc")
    clean = plain_message(caught.value)
    assert "errors.pydantic.dev" not in clean and "\n" not in clean and "input_value" not in clean
    assert "valid integer" in clean

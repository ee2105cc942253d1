"""broadcaster.reports.topics: the communication plan's topic list.

Real SQLite through the `station` fixture.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

from broadcaster.exceptions import InputError, NotFoundError
from broadcaster.models import Bulletin, Topic
from broadcaster.reports.topics import add_topic, ensure_topics, list_topics, remove_topic, rename_topic
from reports_helpers import add_bulletin


# ----------------------------------------------------------------------------- topics
def test_topics_are_seeded_once_from_the_plan(station):
    with Session(station.db) as session:
        names = [t.name for t in ensure_topics(session=session)]
        assert names[:2] == ["Chủ trương của Đảng", "Chính sách pháp luật"]
        assert "Kinh tế - xã hội" in names and "Quốc phòng - an ninh" in names
        for topic in list_topics(session=session):
            remove_topic(session=session, topic_id=topic.id)
        # an officer who removed every topic meant it: no re-seeding
        assert ensure_topics(session=session) == []


def test_topic_add_rename_remove(station):
    with Session(station.db) as session:
        ensure_topics(session=session)
        added = add_topic(session=session, name="  Chuyển   đổi số ", by="admin")
        assert added.name == "Chuyển đổi số"
        assert [t.name for t in list_topics(session=session)][-1] == "Chuyển đổi số"
        with pytest.raises(InputError):
            add_topic(session=session, name="Chuyển đổi số")
        with pytest.raises(InputError):
            add_topic(session=session, name="   ")
        bulletin = add_bulletin(session, "Dịch vụ công trực tuyến", topic="Chuyển đổi số")
        renamed = rename_topic(session=session, topic_id=added.id, name="Chuyển đổi số quốc gia", by="lanhdao")
        assert renamed.name == "Chuyển đổi số quốc gia"
        session.expire_all()
        again = session.get(Bulletin, bulletin.id)
        assert again.topic == "Chuyển đổi số quốc gia" and again.updated_by == "lanhdao"
        with pytest.raises(InputError):
            rename_topic(session=session, topic_id=added.id, name="Kinh tế - xã hội")
        remove_topic(session=session, topic_id=added.id)
        assert session.get(Topic, added.id) is None
        assert session.get(Bulletin, bulletin.id).topic == "Chuyển đổi số quốc gia"  # bulletins keep their text
        with pytest.raises(NotFoundError):
            remove_topic(session=session, topic_id=added.id)

"""The editable list of the communication plan's topics (seeded on first use)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..exceptions import InputError, NotFoundError
from ..models import Bulletin, Topic, TopicPublic, utcnow
from ..scheduling.store import get_state, set_state

# The topics of the commune's communication plan (Kế hoạch truyền thông chính sách 2026,
# shared/samples): the Party's policies, the State's policies and laws, the province's and
# commune's direction, the economy and society, defence and security, promoting the locality,
# and the commune's everyday notices (power cuts, vaccination days).
DEFAULT_TOPICS: tuple[str, ...] = (
    "Chủ trương của Đảng",
    "Chính sách pháp luật",
    "Chỉ đạo điều hành của tỉnh, của xã",
    "Kinh tế - xã hội",
    "Quốc phòng - an ninh",
    "Quảng bá tiềm năng, du lịch, đầu tư",
    "Thông báo của xã",
)
NO_TOPIC = "Chưa phân chủ đề"
TOPICS_SEEDED_KEY = "topics_seeded"


def _clean_name(name: str | None, what: str, limit: int = 200) -> str:
    cleaned = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not cleaned:
        raise InputError(f"{what} không được để trống")
    if len(cleaned) > limit:
        raise InputError(f"{what} dài quá {limit} ký tự")
    return cleaned


def ensure_topics(*, session: Session) -> list[TopicPublic]:
    """The topic list, seeded with the plan's topics the first time it is asked for.

    Seeding happens once per database (a flag in scheduler_state): an officer who removed
    every topic meant it. Commits when it seeds.
    """
    if not get_state(session=session, key=TOPICS_SEEDED_KEY):
        try:
            if session.exec(select(Topic)).first() is None:
                for position, name in enumerate(DEFAULT_TOPICS, start=1):
                    session.add(Topic(name=name, position=position, created_by="hệ thống"))
            set_state(session=session, key=TOPICS_SEEDED_KEY, value="1")
            session.commit()
        except IntegrityError:  # another request seeded them at the same moment: use its list
            session.rollback()
    return list_topics(session=session)


def list_topics(*, session: Session) -> list[TopicPublic]:
    """Every topic in display order."""
    rows = session.exec(select(Topic).order_by(col(Topic.position), col(Topic.name))).all()
    return [TopicPublic.model_validate(r) for r in rows]


def add_topic(*, session: Session, name: str, by: str | None = None) -> TopicPublic:
    """A new topic at the end of the list. Commits. InputError for an empty or taken name."""
    ensure_topics(session=session)
    name = _clean_name(name, "Tên chủ đề")
    if session.exec(select(Topic).where(Topic.name == name)).first() is not None:
        raise InputError(f"Đã có chủ đề '{name}'")
    last = session.exec(select(func.max(Topic.position))).one() or 0
    topic = Topic(name=name, position=int(last) + 1, created_by=by)
    session.add(topic)
    session.commit()
    session.refresh(topic)
    return TopicPublic.model_validate(topic)


def rename_topic(*, session: Session, topic_id: int, name: str, by: str | None = None) -> TopicPublic:
    """Rename a topic and the bulletins filed under it (reports keep counting them). Commits once."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFoundError(f"Không có chủ đề số {topic_id}", topic_id=topic_id)
    name = _clean_name(name, "Tên chủ đề")
    clash = session.exec(select(Topic).where(Topic.name == name, Topic.id != topic_id)).first()
    if clash is not None:
        raise InputError(f"Đã có chủ đề '{name}'")
    old = topic.name
    if old != name:
        for bulletin in session.exec(select(Bulletin).where(Bulletin.topic == old)).all():
            bulletin.topic = name
            bulletin.updated_at = utcnow()
            bulletin.updated_by = by
            session.add(bulletin)
        topic.name = name
        session.add(topic)
        session.commit()
        session.refresh(topic)
    return TopicPublic.model_validate(topic)


def remove_topic(*, session: Session, topic_id: int) -> TopicPublic:
    """Take a topic off the list. Bulletins keep their topic text (reports still show it). Commits."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFoundError(f"Không có chủ đề số {topic_id}", topic_id=topic_id)
    public = TopicPublic.model_validate(topic)
    session.delete(topic)
    session.commit()
    return public


__all__ = ["DEFAULT_TOPICS", "NO_TOPIC", "ensure_topics", "list_topics", "add_topic", "rename_topic", "remove_topic"]

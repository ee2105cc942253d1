"""Two console requests seeding the topic list at the same moment (60 clients opening /reports
at once did it): the second must not fail with a UNIQUE error (a 500), it finds the list made."""

from __future__ import annotations

from sqlmodel import Session

from broadcaster.reports.topics import DEFAULT_TOPICS, ensure_topics


def test_a_concurrent_first_seed_is_not_an_error(station):
    with Session(station.db) as session:
        real_exec = session.exec
        seeded = []

        def exec_(statement, *args, **kwargs):
            result = real_exec(statement, *args, **kwargs)
            if not seeded and "FROM topic" in str(statement):
                # another request seeds (and commits) right after this one found no topic
                seeded.append(True)
                with Session(station.db) as other:
                    ensure_topics(session=other)
            return result

        session.exec = exec_
        names = [t.name for t in ensure_topics(session=session)]
    assert seeded and names == list(DEFAULT_TOPICS)

"""One error tree. Every error carries a message fit to show an operator.

The CLI prints ``str(err)`` on one line and exits non-zero; the web layer maps the
class to a status code. Messages are Vietnamese first, with English after " / "
where it helps an administrator reading the CLI.
"""

from __future__ import annotations


class BroadcasterError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message


class ConfigError(BroadcasterError):
    """Settings or data directory are unusable."""


class NotFoundError(BroadcasterError):
    """An id or a file that does not exist."""


class InputError(BroadcasterError):
    """Bad input from a user: empty text, unreadable file, bad option."""


class SpeechError(BroadcasterError):
    """No engine could turn the text into speech."""


class AudioError(BroadcasterError):
    """Audio could not be decoded, assembled or written."""


class DiskFullError(BroadcasterError):
    """The data directory's disk has less free space than min_free_mb: nothing new is written."""


class PlayoutError(BroadcasterError):
    """The sound device could not be opened or failed while playing."""


class ScheduleError(BroadcasterError):
    """The timetable is invalid or the scheduler cannot start."""


# ---- what a library says, made fit for a user (issue 9 item 9: no SQLAlchemy/pydantic internals)
def plain_message(exc: BaseException | str) -> str:
    """One readable line from an exception: without SQLAlchemy's "[SQL: …]", "[parameters: …]" and
    "(Background on this error at: https://sqlalche.me/…)", pydantic's "For further information
    visit https://errors.pydantic.dev/…", and the "(sqlite3.OperationalError)" class prefix."""
    import re

    if not isinstance(exc, str):
        orig = getattr(exc, "orig", None)  # a SQLAlchemy DBAPIError: the driver's own message
        text = str(orig) if orig is not None and str(orig) else str(exc)
    else:
        text = exc
    text = re.sub(r"\(Background on this error at:[^)]*\)", " ", text)
    text = re.sub(r"\[(SQL|parameters): .*?\](?=\s|$)", " ", text, flags=re.S)
    text = re.sub(r"For further information visit \S+", " ", text)
    text = re.sub(r"\[type=[^\]]*\]", " ", text)
    text = re.sub(r"https?://(errors\.pydantic\.dev|sqlalche\.me)\S*", " ", text)
    text = re.sub(r"^\((sqlite3|sqlalchemy)\.[\w.]+\)\s*", "", text.strip())
    text = " ".join(text.split())
    return text.rstrip(" :;,")  # "" when nothing but internals was said

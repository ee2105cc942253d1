"""The microphone on air for an urgent announcement (the desk's live source), archived as a WAV."""

from __future__ import annotations

import logging
from datetime import timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .urgent import UrgentDesk
    from .urgent_job import UrgentJob

log = logging.getLogger(__name__)


def air_mic(desk: UrgentDesk, job: UrgentJob) -> None:
    """The microphone to the output until stop(); the recording is archived as a WAV."""
    factory = desk._mic_source_class()
    archive_dir = desk.settings.data_dir / "archive" / "urgent"
    archive_dir.mkdir(parents=True, exist_ok=True)
    archive = archive_dir / f"{job.requested_at.astimezone(timezone.utc):%Y%m%dT%H%M%S}-{job.id}.wav"
    title = "Thông báo khẩn cấp: micro"
    fields = desk._row_fields(job)
    try:
        source = factory(archive=archive, settings=desk.settings)
    except Exception as exc:
        job.state, job.error = "failed", f"Không mở được micro: {exc}"
        desk._log_failed(job, title, job.error)
        return
    desk._live = source
    if job.stop_event.is_set():  # a stop that came before the microphone was ours to stop
        _quiet_stop(source)
    desk.say("Đang phát trực tiếp qua micro. Dừng bằng lệnh dừng (Ctrl+C).")
    try:
        row = desk.asrun.play_source(source, player=desk.player, title=title, path=str(archive), **fields)
    finally:
        desk._live = None
    job.row_ids.append(row.id)
    job.archive_path = str(archive) if archive.is_file() else None
    if row.status.value == "failed":
        job.state, job.error = "failed", row.reason
    else:
        job.airings += 1


def _quiet_stop(source: Any) -> None:
    try:
        source.stop()
    except Exception:
        log.exception("stopping the microphone failed")

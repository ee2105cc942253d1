"""Former home of the bulletin workflow, kept so older imports keep working.

The one bulletin service is `broadcaster.station.bulletins` (validation, lifecycle, approval
with audit, recordings); text and .docx import is `broadcaster.station.documents`. New code
imports those; this module only re-exports them.
"""

from __future__ import annotations

from .station.bulletins import (  # noqa: F401 (re-exported)
    EDITABLE,
    MAX_RECORDING_BYTES,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MIN_RECORDING_S,
    PAGE_SIZE,
    RECORDING_TYPES,
    BulletinFields,
    BulletinPage,
    check_recording,
    check_text_length,
    check_title,
    clean_fields,
    create_draft,
    get,
    list_page,
    parse_date,
    recordings_dir,
    reject,
    remove_recording,
    status_counts,
    submit,
    update_draft,
)
from .station.documents import (  # noqa: F401 (re-exported)
    MAX_DOCX_BYTES,
    MAX_DOCX_MEMBERS,
    MAX_DOCX_UNPACKED_BYTES,
    MAX_DOCX_XML_BYTES,
    decode_text_file,
    import_docx,
    zipfile_errors,
)

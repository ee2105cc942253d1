"""The zones the station feeds a mount for: those its receivers registered with (issue 14).

`known_zones(engine)` is the one hook the fan-out asks (serve at start and on every device check):
the distinct zones of the receivers that are not revoked, once the `receivers` table exists (helper
D's migration 0005_receivers); [] while it does not, so the main mount airs alone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


def known_zones(engine: Engine) -> list[str]:
    """Zone names (display text, NFC) of the receivers not revoked, sorted; [] without the table."""
    from sqlalchemy import inspect, text

    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("receivers"):
                return []
            columns = {c["name"] for c in inspect(conn).get_columns("receivers")}
            revoked = " AND revoked_at IS NULL" if "revoked_at" in columns else ""
            rows = conn.execute(text(f"SELECT DISTINCT zone FROM receivers WHERE zone IS NOT NULL{revoked}"))
            return sorted({str(row[0]) for row in rows if row[0] and str(row[0]).strip()})
    except Exception as exc:  # the database busy or locked: the zones already fed stay fed
        log.warning("reading the receivers' zones failed: %s", exc)
        return []


__all__ = ["known_zones"]

"""The helpers the CLI command modules share (cli/common.py): the station a command opens is closed
however the command ends, and --json output is one UTF-8 JSON array."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy import text

from broadcaster.exceptions import InputError


def test_a_commands_station_is_closed_when_the_command_fails(data_dir, capsys):
    from broadcaster.cli.common import echo_json, station_for

    ctx = typer.Context(typer.main.get_command(typer.Typer(callback=lambda: None)))
    ctx.obj = {"data_dir": data_dir}
    with station_for(ctx, None) as station:
        with station.db.connect() as con:
            con.execute(text("select 1"))
        assert station.db.pool.checkedin() == 1  # the connection back in the pool, still open
    assert station.db.pool.checkedin() == 0  # closed: the pool's connections are gone
    with pytest.raises(InputError), station_for(ctx, None) as failing:
        with failing.db.connect() as con:
            con.execute(text("select 1"))
        raise InputError("Tên cụm loa không được để trống")
    assert failing.db.pool.checkedin() == 0
    echo_json(item for item in ({"tên": "Cụm loa chợ"}, {"tên": "Cụm loa đình"}))
    out = capsys.readouterr().out
    assert json.loads(out) == [{"tên": "Cụm loa chợ"}, {"tên": "Cụm loa đình"}] and "Cụm loa chợ" in out

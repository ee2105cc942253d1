"""`broadcaster icecast-config` (issue 14 item 1): a ready icecast.xml on stdout (low latency, random
passwords), the stream_url line for settings.toml on stderr; bad options are one `Lỗi:` line."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from types import SimpleNamespace

from broadcaster.cli.app import run
from broadcaster.streaming.urls import parse_stream_url


def _config(capsys, *args: str):
    code = run(["icecast-config", *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return SimpleNamespace(stdout=out.out, stderr=out.err)


def test_prints_a_low_latency_config_with_random_passwords_and_the_stream_url(capsys):
    first, second = _config(capsys, "--port", "8123", "--hostname", "loa.xa.vn"), _config(capsys)
    root = ET.fromstring(first.stdout)
    assert root.findtext("listen-socket/port") == "8123" and root.findtext("hostname") == "loa.xa.vn"
    assert root.findtext("limits/burst-on-connect") == "0" and int(root.findtext("limits/queue-size")) <= 65536
    password = root.findtext("authentication/source-password")
    assert len(password) >= 16 and password != ET.fromstring(second.stdout).findtext("authentication/source-password")
    line = [l for l in first.stderr.splitlines() if l.startswith("stream_url = ")]
    assert len(line) == 1, first.stderr
    target = parse_stream_url(line[0].split("=", 1)[1].strip().strip('"'))
    assert (target.host, target.port, target.mount, target.password) == ("loa.xa.vn", 8123, "/dai.mp3", password)


def test_bad_options_are_one_line(capsys):
    assert run(["icecast-config", "--port", "70000"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Lỗi: --port 70000"), err
    assert run(["icecast-config", "--hostname", "máy <xấu>"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Lỗi: --hostname"), err

"""`broadcaster voices list | install | remove | test` and `render --engine piper`, end to end in-process.

Voices are the stand-in ONNX voice (piper_helpers); the catalogue's files are served by a real
HTTP server on loopback, the catalogue pointed at it through the station's settings (environment).
"""

from __future__ import annotations

import functools
import json
import threading
import unicodedata
import wave
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from piper_helpers import sha256, write_voice

NAME = "vi_VN-test-medium"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    from broadcaster.cli.app import run

    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), err
    assert "Traceback" not in err and unicodedata.is_normalized("NFC", err)


def voices_left(data_dir: Path) -> list[str]:
    folder = data_dir / "voices"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def usb(tmp_path) -> Path:
    """A USB stick with one voice: X.onnx and X.onnx.json side by side."""
    return write_voice(tmp_path / "usb", name=NAME)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def catalogue_server(tmp_path, monkeypatch):
    """A local HTTP server for the catalogue's files; returns (root folder, write_catalogue)."""
    root = tmp_path / "mirror"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("BROADCASTER_VOICE_CATALOGUE_URL", base)
    monkeypatch.setenv("BROADCASTER_VOICE_DOWNLOAD_TIMEOUT", "20")

    def publish(name: str, *, licence: str = "CC BY 4.0 (thử)", model_sha256: str | None = None) -> Path:
        """Put a stand-in voice on the server and describe it in a catalogue file."""
        model = write_voice(root / "vi" / name, name=name)
        entry = {
            "name": name, "path": f"vi/{name}/{name}", "model_size": model.stat().st_size,
            "model_sha256": model_sha256 or sha256(model), "config_size": Path(f"{model}.json").stat().st_size,
            "licence": licence, "description": "giọng thử", "source": "máy chủ thử",
        }
        catalogue = tmp_path / "catalogue.json"
        catalogue.write_text(json.dumps([entry], ensure_ascii=False), encoding="utf-8")
        monkeypatch.setenv("BROADCASTER_VOICE_CATALOGUE_FILE", str(catalogue))
        return model

    yield root, publish
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_install_a_local_voice_list_it_and_render_with_engine_piper(capsys, data_dir, usb, tmp_path):
    code, out, err = cli(capsys, "voices", "install", str(usb))
    assert code == 0, err
    assert f"piper:{NAME}" in out
    assert voices_left(data_dir) == [NAME]

    code, out, err = cli(capsys, "voices", "list")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith(f"piper:{NAME}\t"))
    assert "đã cài" in line and "giấy phép:" in line
    # every catalogue voice and espeak-ng are listed with their licence too
    assert "CC BY-NC-SA 4.0" in out and "espeak:vi" in out and "GPL" in out

    wav = tmp_path / "out.wav"
    code, out, err = cli(capsys, "render", "--engine", "piper", "--no-jingles", "--text", "Xin chào bà con.",
                         "-o", str(wav))
    assert code == 0, err
    assert "giọng piper" in err
    with wave.open(str(wav)) as audio:
        assert audio.getnframes() > 0
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in (data_dir / "cache" / "speech").glob("*.json")]
    assert [s["engine"] for s in sidecars] == ["piper"] and sidecars[0]["identity"]["voice"] == NAME


def test_render_with_engine_piper_and_no_voice_installed_is_one_clear_line(capsys, data_dir, tmp_path):
    code, out, err = cli(capsys, "render", "--engine", "piper", "--text", "Xin chào.", "-o", str(tmp_path / "x.wav"))
    assert code != 0
    assert_one_error_line(err)
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no_config", "bad_config", "foreign_model"])
def test_a_corrupt_local_voice_is_refused_and_nothing_is_installed(capsys, data_dir, usb, damage):
    config = Path(f"{usb}.json")
    data = usb.read_bytes()
    if damage == "truncated":
        usb.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        usb.write_bytes(b"\x00" * len(data))
    elif damage == "no_config":
        config.unlink()
    elif damage == "bad_config":
        config.write_text("{không phải json", encoding="utf-8")
    elif damage == "foreign_model":
        from test_piper_engine import _write_foreign_model

        _write_foreign_model(usb)
    code, out, err = cli(capsys, "voices", "install", str(usb))
    assert code == 1
    assert_one_error_line(err)
    assert voices_left(data_dir) == []  # no voice, no half-copied staging folder


def test_a_voice_named_in_the_catalogue_is_downloaded_verified_and_installed(capsys, data_dir, catalogue_server):
    _, publish = catalogue_server
    publish("vi_VN-mirror-low", licence="CC BY-NC-SA 4.0 — chỉ dùng phi thương mại")
    code, out, err = cli(capsys, "voices", "install", "vi_VN-mirror-low")
    assert code == 0, err
    assert voices_left(data_dir) == ["vi_VN-mirror-low"]
    meta = json.loads((data_dir / "voices" / "vi_VN-mirror-low" / "voice.json").read_text(encoding="utf-8"))
    assert meta["source"].startswith("http://127.0.0.1:")
    code, out, err = cli(capsys, "voices", "list")
    assert "piper:vi_VN-mirror-low\tđã cài" in out and "phi thương mại" in out


@pytest.mark.parametrize("fault", ["truncated", "wrong_bytes", "missing", "wrong_sha_in_catalogue"])
def test_a_truncated_or_wrong_download_is_refused_with_nothing_half_installed(
    capsys, data_dir, catalogue_server, fault
):
    _, publish = catalogue_server
    if fault == "wrong_sha_in_catalogue":
        publish("vi_VN-mirror-low", model_sha256="0" * 64)
    else:
        model = publish("vi_VN-mirror-low")
        data = model.read_bytes()
        if fault == "truncated":
            model.write_bytes(data[: len(data) - 100])
        elif fault == "wrong_bytes":  # same size, other content: only the sha256 can tell
            model.write_bytes(data[:-8] + b"XXXXXXXX")
        elif fault == "missing":
            model.unlink()
    code, out, err = cli(capsys, "voices", "install", "vi_VN-mirror-low")
    assert code == 1
    assert_one_error_line(err)
    assert voices_left(data_dir) == []


def test_a_catalogue_voice_without_a_confirmed_sha256_is_refused_by_name(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("BROADCASTER_VOICE_CATALOGUE_URL", "http://127.0.0.1:9")  # never reached
    code, out, err = cli(capsys, "voices", "install", "vi_VN-vivos-x_low")
    assert code == 1
    assert_one_error_line(err)
    assert "sha256" in err and voices_left(data_dir) == []


def test_test_writes_a_sample_and_remove_uninstalls(capsys, data_dir, usb, tmp_path):
    assert cli(capsys, "voices", "install", str(usb))[0] == 0
    sample = tmp_path / "sample.wav"
    code, out, err = cli(capsys, "voices", "test", NAME, "-o", str(sample))
    assert code == 0, err
    with wave.open(str(sample)) as audio:
        assert audio.getnframes() > 0
    code, out, err = cli(capsys, "voices", "install", str(usb))  # twice: refused, the first kept
    assert code == 1 and voices_left(data_dir) == [NAME]
    assert_one_error_line(err)
    code, out, err = cli(capsys, "voices", "remove", NAME)
    assert code == 0, err
    assert voices_left(data_dir) == []
    code, out, err = cli(capsys, "voices", "remove", NAME)
    assert code == 1
    assert_one_error_line(err)


def test_piper_is_registered_only_when_a_voice_is_installed(settings, usb):
    from broadcaster.speech import piper_voices as voices
    from broadcaster.speech.engines import build_engines

    assert "piper" not in build_engines(settings)
    voices.install(settings, str(usb))
    engines = build_engines(settings)
    assert engines["piper"].voice == NAME
    assert set(voices.piper_engines(settings)) == {NAME}


def test_the_built_in_catalogue_has_the_three_published_vietnamese_voices():
    from broadcaster.speech.piper_voices import CATALOGUE

    names = {v.name for v in CATALOGUE}
    assert names == {"vi_VN-vais1000-medium", "vi_VN-25hours_single-low", "vi_VN-vivos-x_low"}
    for voice in CATALOGUE:
        assert voice.model_size > 1_000_000 and voice.licence and voice.source
        assert voice.model_sha256 is None or len(voice.model_sha256) == 64
    vivos = next(v for v in CATALOGUE if v.name == "vi_VN-vivos-x_low")
    assert "NC" in vivos.licence and "phi thương mại" in vivos.licence


def test_the_piper_engine_offers_every_installed_voice_and_switches_between_them(settings, tmp_path):
    from broadcaster.speech import piper_voices as voices
    from broadcaster.speech.engines import build_engines

    for name in ("vi_VN-a-low", "vi_VN-b-medium"):
        voices.install(settings, str(write_voice(tmp_path / name, name=name)))
    engine = build_engines(settings)["piper"]
    assert set(engine.voices()) == {"vi_VN-a-low", "vi_VN-b-medium"}
    # each label carries the voice's licence, so the console's voice picker shows it
    assert all("giấy phép: không rõ" in label for label in engine.voices().values())
    other = engine.with_voice("vi_VN-b-medium", rate=2.0)
    assert other.voice == "vi_VN-b-medium" and other.length_scale == 0.5
    text = "Xin chào bà con."
    assert len(other.synthesize(text).samples) * 2 == len(engine.synthesize(text).samples)


def test_the_third_party_notice_and_readme_name_each_licence():
    repo = Path(__file__).resolve().parents[2]
    notice = (repo / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    for needle in ("piper-tts", "espeak-ng", "GPL-3.0-or-later", "onnxruntime", "MIT", "LGPL",
                   "vi_VN-vivos-x_low", "CC BY-NC-SA 4.0", "vi_VN-vais1000-medium", "CC BY 4.0"):
        assert needle in notice, needle
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert "THIRD_PARTY_NOTICES.md" in readme and "non-commercial" in readme


@pytest.fixture
def alsa_capture(tmp_path):
    """The real sound path (sounddevice → PortAudio → ALSA default) into a WAV file, as in tests/playout."""
    from broadcaster.exceptions import PlayoutError
    from broadcaster.playout.devices import list_devices, reinitialize_portaudio

    try:
        list_devices()
    except PlayoutError as exc:
        pytest.skip(f"PortAudio is not usable here (install libportaudio2): {exc}")
    capture = tmp_path / "card.wav"
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(f'pcm.!default {{ type file; slave.pcm "null"; file "{capture}"; '
                                    'format "wav" }\n')
    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", str(home))
    reinitialize_portaudio()
    yield capture
    patch.undo()
    reinitialize_portaudio()


def test_test_without_out_plays_the_sample_on_the_sound_card(capsys, data_dir, usb, alsa_capture):
    assert cli(capsys, "voices", "install", str(usb))[0] == 0
    code, out, err = cli(capsys, "voices", "test", NAME, "--text", "Xin chào.")
    assert code == 0, err
    assert "Đã phát" in out
    assert alsa_capture.is_file() and alsa_capture.stat().st_size > 44 + 1000  # audio reached the card

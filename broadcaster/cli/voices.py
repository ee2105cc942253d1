"""`broadcaster voices list | install SOURCE | remove NAME | test NAME`: the station's Piper voices.

SOURCE is an ``X.onnx`` file with its ``X.onnx.json`` beside it (a USB stick; the voice is then
named X), or the name of a voice in the built-in catalogue (downloaded, verified, then installed).
Everything heavy (onnxruntime, numpy) is imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DataDir, check_output_path, cli_settings, make_player

voices_app = typer.Typer(help="Giọng đọc Piper (ngoại tuyến): xem, cài, gỡ, nghe thử.", no_args_is_help=True)


@voices_app.command("list")
def voices_list(ctx: typer.Context, data_dir: DataDir = None) -> None:
    """Các giọng đã cài và các giọng trong danh mục, kèm giấy phép của từng giọng."""
    from ..speech import piper_voices as voices

    settings = cli_settings(ctx, data_dir)
    installed = voices.installed(settings)
    names = {voice.name for voice in installed}
    for voice in installed:
        mb = voice.size / 1e6
        typer.echo(f"piper:{voice.name}\tđã cài\t{mb:.1f} MB\tgiấy phép: {voice.licence}")
    for entry in voices.catalogue(settings):
        if entry.name in names:
            continue
        how = "tải được" if entry.model_sha256 else "cài từ tệp (danh mục chưa có sha256)"
        typer.echo(f"piper:{entry.name}\tchưa cài, {how}\t{entry.model_size / 1e6:.1f} MB\t"
                   f"giấy phép: {entry.licence}\t{entry.description}")
    typer.echo("espeak:vi\tcó sẵn\t-\tgiấy phép: GPL-3.0-or-later (espeak-ng)")


@voices_app.command("install")
def voices_install(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Tệp X.onnx (có X.onnx.json bên cạnh) hoặc tên giọng trong danh mục.")],
    data_dir: DataDir = None,
) -> None:
    """Cài một giọng từ tệp hoặc từ danh mục; kiểm tra trước khi nhận, hỏng thì không cài gì."""
    from ..speech import piper_voices as voices

    settings = cli_settings(ctx, data_dir)
    voice = voices.install(settings, source)
    typer.echo(f"Đã cài giọng piper:{voice.name} ({voice.size / 1e6:.1f} MB, sha256 {voice.sha256[:12]}…); "
               f"giấy phép: {voice.licence}")


@voices_app.command("remove")
def voices_remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tên giọng đã cài, ví dụ vi_VN-vais1000-medium.")],
    data_dir: DataDir = None,
) -> None:
    """Gỡ một giọng đã cài."""
    from ..speech import piper_voices as voices

    settings = cli_settings(ctx, data_dir)
    voice = voices.remove(settings, name.removeprefix("piper:"))
    typer.echo(f"Đã gỡ giọng piper:{voice.name}")


@voices_app.command("test")
def voices_test(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tên giọng đã cài.")],
    out: Annotated[Optional[Path], typer.Option("-o", "--out", help="Ghi ra tệp WAV thay vì phát ra loa.")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="Câu đọc thử (mặc định: câu chào của đài).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="Thiết bị âm thanh để phát.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Đọc thử một câu bằng giọng này: ghi ra tệp (--out) hoặc phát ra loa."""
    from ..speech import piper_voices as voices
    from ..speech.synth import Synthesizer

    if out is not None:
        check_output_path(out)
    settings = cli_settings(ctx, data_dir)
    voice = voices.find(settings, name.removeprefix("piper:"))
    synthesizer = Synthesizer(settings=settings, engines={"piper": voices.engine_for(voice, settings)})
    result = synthesizer.speak(text or voices.SAMPLE_SENTENCE, engine="piper")
    if out is not None:
        import shutil

        shutil.copyfile(result.path, out)
        typer.echo(f"Đã ghi câu đọc thử của piper:{voice.name} vào {out}")
        return
    from ..exceptions import PlayoutError
    from ..playout.outcome import Outcome

    import tempfile

    from ..audio.render import render_item

    with tempfile.TemporaryDirectory(prefix="voice-test-") as scratch:
        # the speech is kept at the voice's own rate: the card plays the station's
        playable = render_item(result.path, Path(scratch) / "sample.wav", settings=settings, jingles=False).path
        player = make_player(settings, device)
        try:
            player.open()
            played = player.play(playable)
        finally:
            player.close()
    if played.outcome is not Outcome.AIRED:
        raise PlayoutError(f"không phát được câu đọc thử ({played.outcome.value}: {played.detail or '-'}); "
                           "dùng --out để ghi ra tệp")
    typer.echo(f"Đã phát câu đọc thử của piper:{voice.name}")

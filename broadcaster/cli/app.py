"""The full command line for administrators: the typer app, its commands mounted from their
modules, and the one place errors become a `Lỗi: …` line (``run``).

Every error the project raises on purpose prints one line (``Lỗi: …``) on stderr and
exits non-zero; anything unexpected does too, never with a traceback. The console script
(entry.py) imports this module only when the fast urgent path does not answer.
"""

from __future__ import annotations

import logging
import sys

import click
import typer

from ..exceptions import BroadcasterError, plain_message
from .backup import backup_app
from .bulletins import bulletin_app, render
from .common import DataDir, cli_settings
from .devices import devices, play
from .icecast import icecast_config_cmd
from .log import log_cmd
from .receivers import receivers_app
from .receiver import receiver_cmd
from .schedule import program_cmd, schedule_app
from .serve import serve
from .speech import lexicon_app, speech_app
from .urgent import urgent_cmd
from .users import user_app
from .voices import voices_app
from .vietnamese import install as _vietnamese, usage_error_line, usage_error_types

_vietnamese()  # typer's own words (Usage, Options, Show this message and exit …) in Vietnamese

app = typer.Typer(
    help="broadcaster — phần mềm tự động phát thanh cho đài truyền thanh xã.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(ctx: typer.Context, data_dir: DataDir = None) -> None:
    ctx.obj = {"data_dir": data_dir}


def init(ctx: typer.Context, data_dir: DataDir = None) -> None:
    """Chuẩn bị thư mục dữ liệu (chạy lại nhiều lần không sao)."""
    from ..station.facade import init_data_dir

    settings = cli_settings(ctx, data_dir, create=True)  # the one command that may make a data directory
    created = init_data_dir(settings)
    for item in created:
        typer.echo(f"Đã tạo {item}")
    typer.echo(f"Thư mục dữ liệu sẵn sàng: {settings.data_dir.resolve()}")


# the order of registration is the order of `broadcaster --help`
app.add_typer(bulletin_app, name="bulletin")
app.add_typer(speech_app, name="speech", help="Lớp đọc: xem văn bản sẽ được đọc thế nào.")
app.add_typer(lexicon_app, name="lexicon", help="Từ điển viết tắt và cách đọc riêng của đài.")
app.add_typer(voices_app, name="voices", help="Giọng đọc Piper ngoại tuyến: xem, cài, gỡ, nghe thử.")
app.add_typer(schedule_app, name="schedule", help="Lịch phát: xem, thêm, xóa, nhập, xuất.")
app.command("program")(program_cmd)
app.command("urgent")(urgent_cmd)
app.add_typer(user_app, name="user", help="Tài khoản bảng điều khiển web.")
app.add_typer(backup_app, name="backup", help="Sao lưu và khôi phục cơ sở dữ liệu.")
app.add_typer(receivers_app, name="receivers", help="Cụm loa nhận luồng phát qua mạng: thêm, thu hồi, xem trạng thái.")
app.command()(init)
app.command()(render)
app.command()(play)
app.command("log")(log_cmd)
app.command()(devices)
app.command()(serve)
app.command("icecast-config")(icecast_config_cmd)
app.command("receiver")(receiver_cmd)


# ------------------------------------------------------------------------- entry
def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; errors become one line on stderr."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass
    try:
        result = app(args=argv, standalone_mode=False, prog_name="broadcaster")
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except usage_error_types() as exc:  # typer's bundled click: one Vietnamese line, not its English
        typer.echo(f"Lỗi: {usage_error_line(exc)}", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("Đã hủy.", err=True)
        return 130
    except KeyboardInterrupt:
        return 130
    except BroadcasterError as exc:
        # one line per problem (a settings file may have several), never library internals
        lines = [plain_message(line) for line in str(exc).splitlines()]
        for line in [line for line in lines if line] or ["lỗi không rõ"]:
            typer.echo(f"Lỗi: {line}", err=True)
        return exc.exit_code
    except Exception as exc:  # the promise: never a traceback to the user
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        from ..disk import is_disk_error

        if is_disk_error(exc):  # SQLite or a file write on a full disk: say that, in one line
            typer.echo("Lỗi: ổ đĩa chứa dữ liệu đài đầy hoặc lỗi, không ghi được; hãy giải phóng dung lượng rồi "
                       "chạy lại", err=True)
            return 2
        typer.echo(f"Lỗi không mong đợi: {type(exc).__name__}: {plain_message(exc) or '-'}", err=True)
        return 2
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())

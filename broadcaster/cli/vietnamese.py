"""Vietnamese for the words typer (and the click it carries) prints by itself.

Help pages ("Usage:", "Options", "Commands", "Arguments", "Show this message and exit.", the
"<str>"/"<path>" type labels, "[default: …]") and usage errors ("No such command …") are written in
English inside typer; an officer reading `broadcaster --help` must see none of it. typer's bundled
click has no gettext hooks, so ``install()`` wraps the few methods that produce those words, once,
before the app runs. ``usage_error_line(exc)`` turns a usage error into the one Vietnamese line the
CLI prints after "Lỗi: ".

Only typer is imported here (never rich, which typer imports itself when it draws a help page).
"""

from __future__ import annotations

import re

HELP_OPTION_TEXT = "Hiện hướng dẫn này rồi thoát."
USAGE_PREFIX = "Cách dùng: "
USAGE_PIECES = {
    "[OPTIONS]": "[TÙY CHỌN]",
    "COMMAND [ARGS]...": "LỆNH [THAM SỐ]...",
    "[ARGS]...": "[THAM SỐ]...",
    "COMMAND": "LỆNH",
}
TYPE_LABELS = {
    "<str>": "<chữ>", "<text>": "<chữ>", "<int>": "<số>", "<integer>": "<số>", "<float>": "<số thực>",
    "<bool>": "<có/không>", "<path>": "<đường dẫn>", "<file>": "<tệp>", "<directory>": "<thư mục>",
    "<datetime>": "<ngày giờ>",
}
RICH_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "Tham số",
    "OPTIONS_PANEL_TITLE": "Tùy chọn",
    "COMMANDS_PANEL_TITLE": "Lệnh",
    "ERRORS_PANEL_TITLE": "Lỗi",
    "ABORTED_TEXT": "Đã hủy.",
    "DEFAULT_STRING": "[mặc định: {}]",
    "ENVVAR_STRING": "[biến môi trường: {}]",
    "REQUIRED_LONG_STRING": "[bắt buộc]",
    "DEPRECATED_STRING": "(không dùng nữa) ",
    "RICH_HELP": "Xem [blue]'{command_path} {help_option}'[/] để được hướng dẫn.",
}
GETTEXT_TEXTS = {
    "default: {default}": "mặc định: {default}",
    "env var: {var}": "biến môi trường: {var}",
    "required": "bắt buộc",
    "(dynamic)": "(tùy lúc chạy)",
    "(deprecated) ": "(không dùng nữa) ",
    "Aborted!": "Đã hủy.",
    "Arguments": "Tham số",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Error": "Lỗi",
    "Missing command.": "thiếu lệnh",
    "No such command {name!r}.": "không có lệnh {name!r}",
}

_VALUE_ERRORS = [
    (re.compile(r"(?:Value )?'(.*)' is not a valid (?:integer|int)\.?"), r"'\1' không phải số nguyên"),
    (re.compile(r"(?:Value )?'(.*)' is not a valid float\.?"), r"'\1' không phải số"),
    (re.compile(r"(?:Value )?'(.*)' is not a valid (?:boolean|bool)\.?"), r"'\1' không phải có/không"),
    (re.compile(r"(?:Value )?'(.*)' is not a valid (\w+)\.?"), r"'\1' không hợp lệ"),
    (re.compile(r"'(.*)' is not one of (.*)\."), r"'\1' không phải một trong \2"),
    (re.compile(r"'(.*)' does not match the formats? (.*)\."), r"'\1' không đúng dạng \2"),
    (re.compile(r"(?:File|Directory|Path) '(.*)' does not exist\."), r"không có '\1'"),
    (re.compile(r"(?:File|Directory|Path) '(.*)' is a file\."), r"'\1' là một tệp, cần một thư mục"),
    (re.compile(r"(?:File|Directory|Path) '(.*)' is a directory\."), r"'\1' là một thư mục, cần một tệp"),
    (re.compile(r"(?:File|Directory|Path) '(.*)' is not readable\."), r"không đọc được '\1'"),
    (re.compile(r"(?:File|Directory|Path) '(.*)' is not writable\."), r"không ghi được vào '\1'"),
    (re.compile(r"(.*) is not in the range (.*)\."), r"\1 nằm ngoài khoảng \2"),
]
_USAGE_ERRORS = [
    (re.compile(r"No such command '(.*)'\.?"), r"không có lệnh '\1'"),
    (re.compile(r"No such option: (\S+?)\.? Did you mean (.+)\?"), r"không có tùy chọn \1 (có phải \2?)"),
    (re.compile(r"No such option: (\S+)"), r"không có tùy chọn \1"),
    (re.compile(r"Missing parameter: (\S+)"), r"thiếu tham số \1"),
    (re.compile(r"Missing argument '(.*)'\.?"), r"thiếu tham số \1"),
    (re.compile(r"Missing option '(.*)'\.?"), r"thiếu tùy chọn \1"),
    (re.compile(r"Missing command\.?"), "thiếu lệnh"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)"), r"thừa tham số: \1"),
    (re.compile(r"Option '(.*)' requires (?:an argument|\d+ arguments)\.?"), r"tùy chọn \1 cần có giá trị"),
    (re.compile(r"Option '(.*)' does not take a value\.?"), r"tùy chọn \1 không nhận giá trị"),
]
_INVALID_VALUE = re.compile(r"Invalid value(?: for (.+?))?: (.*)", re.S)


def _translate_value_error(message: str) -> str:
    for pattern, replacement in _VALUE_ERRORS:
        if pattern.fullmatch(message.strip()):
            return pattern.sub(replacement, message.strip())
    return message


def usage_error_line(exc: BaseException) -> str:
    """One Vietnamese line for a typer/click usage error (what follows "Lỗi: ")."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    message = " ".join(message.split())
    invalid = _INVALID_VALUE.fullmatch(message)
    if invalid:
        where = invalid.group(1)
        detail = _translate_value_error(invalid.group(2))
        line = f"giá trị không hợp lệ cho {where}: {detail}" if where else f"giá trị không hợp lệ: {detail}"
    else:
        line = message
        for pattern, replacement in _USAGE_ERRORS:
            if pattern.fullmatch(message):
                line = pattern.sub(replacement, message)
                break
    return f"{line} (xem hướng dẫn: thêm --help sau lệnh)"


def usage_error_types() -> tuple[type[BaseException], ...]:
    """The exception classes of typer's bundled click that mean "the command was called wrongly"."""
    from typer._click import exceptions

    return (exceptions.UsageError, exceptions.BadParameter)


def _translate_rich_utils() -> None:
    from typer import rich_utils

    for name, text in RICH_TEXTS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)


def install() -> None:
    """Make typer write its own words in Vietnamese (idempotent)."""
    import typer.core as typer_core
    from typer._click import core as click_core
    from typer._click import formatting

    if getattr(click_core.Command, "_broadcaster_vietnamese", False):
        return
    click_core.Command._broadcaster_vietnamese = True

    original_help_option = click_core.Command.get_help_option

    def get_help_option(self, ctx):
        option = original_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    click_core.Command.get_help_option = get_help_option

    original_write_usage = formatting.HelpFormatter.write_usage

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, vietnamese in USAGE_PIECES.items():
            args = args.replace(english, vietnamese)
        original_write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = write_usage

    original_display_type = typer_core._TyperParameter.display_type

    def display_type(self, ctx):
        label = original_display_type(self, ctx)
        return TYPE_LABELS.get(label, label)

    typer_core._TyperParameter.display_type = display_type

    def translate(message: str) -> str:
        return GETTEXT_TEXTS.get(message, message)

    typer_core._ = translate  # the few words typer itself passes through gettext

    for cls in (typer_core.TyperCommand, typer_core.TyperGroup):
        original_format_help = cls.format_help

        def format_help(self, ctx, formatter, _original=original_format_help):
            if typer_core.HAS_RICH and self.rich_markup_mode is not None:
                _translate_rich_utils()  # imported by typer only now, when a help page is drawn
            return _original(self, ctx, formatter)

        cls.format_help = format_help

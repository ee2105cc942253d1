"""Wrong settings said in one line each (issue 9 item 9): the setting's name, the value given and
what is allowed, never pydantic's internals. config.load_settings raises them as ConfigError."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


_WHY = {
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "bool_parsing": "phải là true hoặc false",
    "bool_type": "phải là true hoặc false",
    "string_type": "phải là chuỗi chữ",
    "list_type": "phải là danh sách",
    "path_type": "phải là đường dẫn tệp",
}


def _why(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    if kind in _WHY:
        return _WHY[kind]
    if kind == "literal_error":
        return f"phải là một trong: {ctx.get('expected', '')}".replace("'", "").replace(" or ", ", ")
    bounds = {"greater_than": "phải lớn hơn", "greater_than_equal": "phải từ", "less_than": "phải nhỏ hơn",
              "less_than_equal": "phải tối đa"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"{bounds[kind]} {limit}" + (" trở lên" if kind == "greater_than_equal" else "")
    return "giá trị không hợp lệ"


def describe_settings_errors(exc: ValidationError, toml_path: Path) -> str:
    """One line per wrong setting: its name, the value given and what is allowed."""
    lines = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error.get("loc") else "?"
        value = error.get("input")
        shown = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) < 60 else "…"
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        lines.append(
            f"Cài đặt {name} = {shown} không hợp lệ: {_why(error)} "
            f"(trong {toml_path} hoặc biến môi trường BROADCASTER_{name.upper()})"
        )
    return "\n".join(dict.fromkeys(lines)) or f"Cấu hình không hợp lệ ({toml_path})"


def _settings_failure(exc: Exception, toml_path: Path) -> str:
    import re
    import tomllib

    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"Tệp cài đặt {toml_path} sai cú pháp TOML: {str(exc).splitlines()[0]}"
    found = re.search(r'field "(\w+)"', str(exc))
    if found:
        name = found.group(1)
        return f"Cài đặt {name} không đọc được (biến môi trường BROADCASTER_{name.upper()} hoặc {toml_path})"
    return f"Cấu hình không hợp lệ ({toml_path}): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _field_range(field) -> tuple[float, float, bool, bool] | None:
    """(lowest, highest, lowest_excluded, highest_excluded) of a Field with both bounds, else None."""
    low = high = None
    low_excluded = high_excluded = False
    for bound in field.metadata:  # the annotated_types Ge/Gt/Le/Lt that Field(ge=…) makes
        if getattr(bound, "ge", None) is not None or getattr(bound, "gt", None) is not None:
            low_excluded = getattr(bound, "gt", None) is not None
            low = bound.gt if low_excluded else bound.ge
        elif getattr(bound, "le", None) is not None or getattr(bound, "lt", None) is not None:
            high_excluded = getattr(bound, "lt", None) is not None
            high = bound.lt if high_excluded else bound.le
    return None if low is None or high is None else (low, high, low_excluded, high_excluded)


def _range_text(low: float, high: float, low_excluded: bool, high_excluded: bool) -> str:
    """'từ 50 đến 500', 'lớn hơn 0 và tối đa 300', 'từ -120 đến dưới 0'."""
    if low_excluded:
        return f"lớn hơn {low:g} và " + (f"nhỏ hơn {high:g}" if high_excluded else f"tối đa {high:g}")
    return f"từ {low:g} đến " + (f"dưới {high:g}" if high_excluded else f"{high:g}")

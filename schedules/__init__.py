"""The built-in timetable (default.toml), shipped as package data."""

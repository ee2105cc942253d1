"""The package list for setuptools (everything else is in pyproject.toml).

audio_assets/ and schedules/ stay at the top of the repository and ship inside the wheel as the
packages broadcaster.audio_assets and broadcaster.schedules (package data, found with
importlib.resources: broadcaster/resources.py). pyproject.toml cannot list found packages and
mapped ones together, hence this file.
"""

from setuptools import find_packages, setup

DATA_PACKAGES = {"broadcaster.audio_assets": "audio_assets", "broadcaster.schedules": "schedules"}

setup(packages=[*find_packages(include=["broadcaster", "broadcaster.*"]), *DATA_PACKAGES], package_dir=DATA_PACKAGES)

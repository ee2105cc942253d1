"""The built-in jingles, attention tone and filler, shipped as package data (see LICENSE.md)."""

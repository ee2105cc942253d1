"""broadcaster: broadcast automation for a commune loudspeaker station."""

__version__ = "0.1.0"

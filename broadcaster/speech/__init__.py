"""Text to speech: the reading layer, the engines, the render cache and the fallback chain."""

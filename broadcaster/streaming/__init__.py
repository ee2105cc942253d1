"""Feeding IP loudspeaker clusters (cụm loa) through an Icecast 2 server (issue 14).

urls: the station's `stream_url`, its listener URLs and the zones' mounts, parsed and
redacted in one place so the source password is never shown.
"""

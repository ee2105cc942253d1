"""The receiver program of a loudspeaker cluster (cụm loa; issue 14 item 2).

`broadcaster receiver` runs at the cluster: it asks the station for its stream (api.py), plays
it on its own card with the one-thread Player (runner.py, through monitor.HeardSource), keeps
its own as-run log of what it heard and every gap with its cause (journal.py), and reports
to the station and uploads that log when it can.
"""

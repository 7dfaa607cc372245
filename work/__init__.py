"""Claimable work, shared by generation jobs and exports: the row a worker claims, keeps alive
with a heartbeat, reports steps on and finishes, and the reaper hands on when its worker dies.

A plain package below generation and exports (not an app: it has no tables of its own).
"""

"""Fastpath scheduler: plans and leases over pools of identical SUTs."""

__version__ = "0.1.0"

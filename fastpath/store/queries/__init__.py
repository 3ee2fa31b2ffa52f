"""Every read and write of the scheduler's database, as verbs, one module per noun.

Callers import the noun module they use (`from fastpath.store.queries import
leases`) and never build peewee queries themselves.
"""

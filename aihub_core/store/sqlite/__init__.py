"""The embedded backend: one SQLite file (or `:memory:`) in WAL mode, driven through sqlite-utils.

`store.SQLiteStore` implements `base.Store`; `url` reads `sqlite:///PATH` URLs without loading
sqlite-utils, so that settings can ask where the file is at no cost.
"""

"""Persistence behind one small interface (`base.Store`); SQLite is the embedded default."""

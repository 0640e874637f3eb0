"""The run history: one ``RunRecord`` per run, kept in SQLite."""

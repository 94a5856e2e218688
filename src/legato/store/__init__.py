"""Persistence: SQLAlchemy 2 tables, repositories, the group-commit writer; SQLite by default, PostgreSQL too."""

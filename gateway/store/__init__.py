"""Persistence: SQLAlchemy 2.x models and the database handle (SQLite by default, PostgreSQL in production)."""

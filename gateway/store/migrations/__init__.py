"""Alembic migrations of the gateway's schema (house rule 15). Run them with ``vposlab-gateway migrate``."""

"""The feature suite (Gherkin scenarios tagged with the readiness item ids, pytest-bdd + Playwright).

A package so that it ships in the wheel beside ``lab``: ``vposlab check`` runs it from there with its own pytest
configuration (``features/pytest.ini``), in the repository and when installed alike.
"""

"""Pure payment domain: states, transitions, money. No Flask, no SQLAlchemy, no I/O."""

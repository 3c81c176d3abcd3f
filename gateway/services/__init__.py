"""Use cases: start a payment, confirm an attempt, handle the customer return and callbacks, relay the outbox,
poll pending attempts. Each takes its collaborators explicitly (database, provider, Ecwid client, clock)."""

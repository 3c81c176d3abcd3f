"""HTTP: blueprints for Ecwid (paymentUrl), the provider (return, callback), health; request guards (size limit,
parameter hygiene) in guards.py and params.py; errors become HTTP in errors.py."""

"""HTTP: blueprints for Ecwid (paymentUrl), the provider (return, callback), health; errors become HTTP in errors.py."""

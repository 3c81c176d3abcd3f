"""The fake Ecwid: REST orders API, storefront with encrypted payment requests, return pages."""

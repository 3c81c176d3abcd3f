"""The vPOS port and its ArCa/BPC RBS adapter; callback checksum."""

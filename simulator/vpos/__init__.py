"""The fake bank: ArCa vPOS speaking the BPC RBS API, its hosted card page and callbacks."""

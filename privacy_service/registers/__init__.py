"""Registers the officers keep besides the records of processing: breaches (Art. 33/34)."""

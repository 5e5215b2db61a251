"""Parsers: one module per artifact format."""

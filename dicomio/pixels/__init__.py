"""pixels."""

"""Demo and synthetic-data code, kept apart from the use cases it exercises."""

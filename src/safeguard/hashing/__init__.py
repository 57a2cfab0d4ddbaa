"""hashing package."""

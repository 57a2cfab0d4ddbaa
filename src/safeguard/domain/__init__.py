"""Safeguard's vocabulary: stdlib only, no I/O."""

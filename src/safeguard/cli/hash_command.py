"""Placeholder: this command group is being written."""

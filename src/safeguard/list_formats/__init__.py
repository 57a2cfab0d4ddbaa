"""list_formats package."""

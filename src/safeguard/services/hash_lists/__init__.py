"""Use cases of list keepers: import, show, export, change and augment hash lists."""

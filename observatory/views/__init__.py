"""Views of the observatory, one module per page family."""

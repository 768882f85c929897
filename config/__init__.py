"""Settings and the editable lexicons."""

"""The HTTP front: function traffic, the admin API, and the host's own routes."""

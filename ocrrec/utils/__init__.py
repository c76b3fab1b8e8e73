"""Small shared helpers (atomic file writes, logging) with no paddle import."""

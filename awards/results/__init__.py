"""Published results: versioned publications and winners' certificates."""

"""Programmes, calls for nominations, categories, award levels and application forms."""

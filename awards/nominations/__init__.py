"""Nominations: the application, its answers, files, versions and status timeline."""

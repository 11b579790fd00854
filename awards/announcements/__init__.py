"""Announcements: news about calls and results, in three languages."""

"""Juries: rubrics, rounds, panels, conflicts of interest, assignments and reviews."""

"""Rankings and decisions: advancing entries, awarding prizes, commission votes."""

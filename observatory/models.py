"""Grid computations (methodology versions, runs and cells) live here."""

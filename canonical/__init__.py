"""canonical package."""

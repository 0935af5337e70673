"""Adapters that read and write files and databases around the pure core."""

"""Storage: where registries live, their files, their history."""

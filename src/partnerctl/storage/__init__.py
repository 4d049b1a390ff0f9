"""Storage: the TOML file, its lock and atomic writes, the derived index, the read API, the write pipeline,
the history."""

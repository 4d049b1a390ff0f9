"""Storage: the TOML file, its lock and atomic writes, the derived index, the read API and the write pipeline."""

"""Pure core: the registry's meaning, without files, processes or terminals."""

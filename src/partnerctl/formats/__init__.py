"""The formats layer: registry data written out as documents (pages, maps, calendars...)."""

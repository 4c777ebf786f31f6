-- Fails while loading, before any filesystem exists.
error("refusing to start: no configuration")

"""Provider clients behind one contract (`base`), each declared as one `ProviderEntry` (`entry`) in a package or module
of its own — `kie`, `gemini`, `local` — and found through the registry, which is a tuple of entries."""

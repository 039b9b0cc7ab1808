"""Emulators of the providers' HTTP APIs, for offline development and tests. They import no provider client."""

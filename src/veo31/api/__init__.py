"""The HTTP API (FastAPI): /v1, the old /veo31 routes, provider callbacks, live events, health and metrics."""

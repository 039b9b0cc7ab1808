"""The durable pipeline (DBOS): one workflow per generation, its steps, live status events, and the service
that the API and the CLI go through."""

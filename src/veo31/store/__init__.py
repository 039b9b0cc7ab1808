"""Storage: SQL tables and migrations (SQLAlchemy + Alembic), and blob storage for videos and images."""

"""The node's HTTP API (FastAPI): one router per resource, schemas, dependencies, middleware."""

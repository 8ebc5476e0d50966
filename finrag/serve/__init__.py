"""HTTP gateway (FastAPI): `finrag.serve.app.create_app(settings)`; CLI pieces in `finrag.serve.cli`.

Kept import-free so the page-render worker process (finrag.serve.pages) starts light."""

"""HTTP gateway (FastAPI): `finrag.serve.app.create_app(settings)`; CLI pieces in `finrag.serve.cli`.

Kept import-free: importing a submodule does not pull in the whole gateway."""

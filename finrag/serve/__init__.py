"""HTTP gateway (FastAPI): `finrag.serve.app.create_app(settings)`; its commands are in `finrag.cli`.

Kept import-free: importing a submodule does not pull in the whole gateway."""

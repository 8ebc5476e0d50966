"""`python -m finrag.cli ...` (same as `finrag ...`)."""

from finrag.cli import app

if __name__ == "__main__":  # pragma: no cover
    app()

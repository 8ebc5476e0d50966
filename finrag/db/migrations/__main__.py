"""`python -m finrag.db.migrations [upgrade|current|head] [--url URL]` (same as `finrag migrate ...`)."""

from finrag.cli.migrate import migrate_command

if __name__ == "__main__":
    import typer

    typer.run(migrate_command)

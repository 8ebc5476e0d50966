"""`python -m finrag.registry.migrations [upgrade|current|head] [--url URL]` (same as `finrag db ...`)."""

from finrag.registry.migrations import migrate_command

if __name__ == "__main__":
    import typer

    typer.run(migrate_command)

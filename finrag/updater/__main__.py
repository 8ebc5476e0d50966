"""`python -m finrag.updater SOURCE`: run the document updater (same as `finrag updater SOURCE`)."""

from finrag.cli.updater import updater_command

if __name__ == "__main__":
    import typer

    typer.run(updater_command)

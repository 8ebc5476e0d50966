"""`python -m finrag.queue [--metrics-port N]`: run a worker (same as `finrag worker`)."""

from finrag.cli.worker import worker_command

if __name__ == "__main__":
    import typer

    typer.run(worker_command)

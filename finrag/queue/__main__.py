"""`python -m finrag.queue`: run a worker (same as `finrag worker`)."""

from finrag.queue.worker import worker_command

if __name__ == "__main__":
    import typer

    typer.run(worker_command)

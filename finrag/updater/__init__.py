"""Document updater: keeps the index in step with a folder or an S3 prefix (see `updater.py`)."""

from finrag.updater.lease import Lease, RedisLease, SqlLease
from finrag.updater.run import run_updater
from finrag.updater.state import SourceState
from finrag.updater.updater import Change, DocumentUpdater, ScanReport, sha256_file

__all__ = [
    "Change",
    "DocumentUpdater",
    "Lease",
    "RedisLease",
    "ScanReport",
    "SourceState",
    "SqlLease",
    "run_updater",
    "sha256_file",
]

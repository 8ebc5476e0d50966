"""finrag: cited question answering over financial filings."""

__version__ = "0.1.0"

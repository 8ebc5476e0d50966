"""In-process fakes of external services (Anthropic, OpenAI-compatible), for offline tests and benches."""

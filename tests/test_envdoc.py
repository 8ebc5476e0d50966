from pathlib import Path

from finrag.envdoc import render_env_example
from finrag.settings import RetrievalSettings, Settings


def test_env_example_is_current_and_complete() -> None:
    text = (Path(__file__).parent.parent / ".env.example").read_text()
    assert text == render_env_example(), "regenerate: python -m finrag.envdoc > .env.example"
    for name in Settings.model_fields:
        if name not in ("retrieval", "llm", "answer", "security"):
            assert f"FINRAG_{name.upper()}=" in text
    for name in RetrievalSettings.model_fields:
        assert f"FINRAG_RETRIEVAL_{name.upper()}=" in text


def test_secrets_are_never_printed(monkeypatch) -> None:
    monkeypatch.setenv("FINRAG_LLM_ANTHROPIC_API_KEY", "sk-live-secret")
    assert "sk-live-secret" not in render_env_example()


def test_malformed_settings_name_the_variable(monkeypatch) -> None:
    import pytest

    from finrag.settings import SettingsError, load_settings

    monkeypatch.setenv("FINRAG_RETRIEVAL_TOP_K", "many")
    with pytest.raises(SettingsError, match=r"FINRAG_RETRIEVAL_TOP_K: .*valid integer"):
        load_settings()
    monkeypatch.delenv("FINRAG_RETRIEVAL_TOP_K")
    monkeypatch.setenv("FINRAG_EMBEDDER", "gpu")
    with pytest.raises(SettingsError, match="FINRAG_EMBEDDER: "):
        load_settings()

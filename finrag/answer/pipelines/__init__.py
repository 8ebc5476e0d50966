"""Answering pipelines (easy, agentic, vision, long context), each registered by name in
`finrag.answer.registry` and run by `finrag.answer.engine.AnswerEngine`. Their settings are the
`answer` section of `finrag.settings.Settings`."""

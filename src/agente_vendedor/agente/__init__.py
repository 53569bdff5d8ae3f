"""The sales agent: conversations, the offline dialogue engine, the LLM generator and the reply guard."""

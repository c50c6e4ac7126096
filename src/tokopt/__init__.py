"""tokopt: exact offline token counts and costs for LLM prompts."""

__version__ = "0.1.0"

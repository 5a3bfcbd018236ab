"""Custom Rasa NLU components: thin adapters over bot.language.text and bot.language.extraction."""

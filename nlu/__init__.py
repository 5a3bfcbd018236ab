"""Custom Rasa NLU components: thin adapters over bot.text and bot.extraction."""

"""Additions to Rasa itself (loaded by Rasa through endpoints files), as opposed to the NLU components in nlu/."""

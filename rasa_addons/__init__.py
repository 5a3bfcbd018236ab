"""Additions to Rasa itself, as opposed to the NLU components in nlu/.

Rasa loads some through endpoints files (the lock store, the encrypted tracker store);
`python -m rasa_addons`, which starts Rasa, installs the others first (the action response check).
"""

"""The rasa_sdk action server: thin actions over the shared core in `bot`."""

"""What the web app's channels share with the core: the signed channel to Rasa and replay guards."""

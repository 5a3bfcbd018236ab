"""The Rasa model: which one belongs to the training data, deploying it behind a gate, learning from reviews."""

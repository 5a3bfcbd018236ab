-- Rasa's tracker store gets a database of its own beside the card database (POSTGRES_DB).
CREATE DATABASE tracker;

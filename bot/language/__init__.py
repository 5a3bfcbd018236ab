"""The language of numbers and text: normalising messages, spoken digits, finding and masking personal data."""

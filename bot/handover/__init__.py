"""Handing a conversation to staff: live takeovers, callbacks, voicemails and what the person is told."""

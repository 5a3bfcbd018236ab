"""`python -m rasa_addons …`: the `rasa` command (same arguments), with our additions installed first.

The Procfile, `deploy/rasa.sh` and the tests start Rasa this way; see rasa_addons/action_responses.py.
"""

from __future__ import annotations

from rasa_addons.action_responses import install


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()

"""`make call`: a terminal phone for people without a Twilio account.

It places a signed "call" against the running web app, prints what `<Say>` would speak, takes
typed speech or keypad input (``keys:320102…#``), and follows `<Gather>`, `<Redirect>`, `<Dial>`,
`<Record>` and `<Hangup>` as Twilio would. With `--script` it runs a list of inputs without
asking (the tests use that), then hangs up.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from twilio.request_validator import RequestValidator

from bot.config import merged_environment

Transport = Callable[[str, dict[str, str]], tuple[int, str]]


_SENTENCE_END = tuple(".!?。！？")
_CONTINUES = tuple(",.;:!?，。；：！？、")


def said_lines(says: list[ET.Element]) -> list[str]:
    """The texts of `<Say>` elements in a row, one line per message: a sentence the hotline splits
    between voices (an English one naming "玄武区…" in Chinese) is one line again."""
    lines: list[str] = []
    for say in says:
        text = "".join(say.itertext()).strip()
        if not text:
            continue
        if lines and (not lines[-1].endswith(_SENTENCE_END) or text.startswith(_CONTINUES)):
            lines[-1] = f"{lines[-1]}{'' if text.startswith(_CONTINUES) else ' '}{text}"
        else:
            lines.append(text)
    return lines


@dataclass
class Call:
    """One simulated call: what was spoken, in order, and how it ended."""

    transport: Transport
    caller: str = "+8613900001001"
    sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    spoken: list[str] = field(default_factory=list)
    ended: str = ""

    def _post(self, path: str, extra: dict[str, str]) -> ET.Element | None:
        form = {"CallSid": self.sid, "From": self.caller, "To": "+861012345678", **extra}
        status, body = self.transport(path, form)
        if status != 200:
            self.ended = f"HTTP {status}"
            return None
        return ET.fromstring(body)

    def _say(self, elements: list[ET.Element], echo: bool) -> None:
        for text in said_lines(elements):
            self.spoken.append(text)
            if echo:
                print(f"bot: {text}")

    def _recorded(self, record: ET.Element) -> dict[str, str]:
        """A recording made, announced to the status callback as Twilio would; the action's form."""
        sid = "RE" + secrets.token_hex(16)
        form = {"RecordingSid": sid, "RecordingUrl": f"https://api.twilio.com/simulated/Recordings/{sid}"}
        if record.get("recordingStatusCallback"):
            self.transport(
                record.get("recordingStatusCallback"),
                {"CallSid": self.sid, **form, "RecordingStatus": "completed", "RecordingDuration": "5"},
            )
        return form

    def run(self, inputs: Iterator[str | None], echo: bool = True) -> Call:
        """Follow the call from `/twilio/voice` until it hangs up or the inputs run out."""
        root = self._post("/twilio/voice", {"CallStatus": "ringing"})
        while root is not None:
            next_path, form = None, {}
            for verb in root:
                if verb.tag == "Say":
                    self._say([verb], echo)
                elif verb.tag == "Gather":
                    self._say(list(verb.iter("Say")), echo)
                    answer = next(inputs, None)
                    if answer is None:
                        self.ended = "caller hung up"
                        break
                    if answer.startswith("keys:"):
                        form = {"Digits": answer[5:].rstrip("#")}
                    elif answer:
                        form = {"SpeechResult": answer, "Confidence": "0.9"}
                    next_path = verb.get("action")
                    break
                elif verb.tag == "Redirect":
                    next_path = verb.text
                    break
                elif verb.tag == "Dial":
                    if echo:
                        print(f"[transferring to {verb.text}; simulating no answer]")
                    next_path, form = verb.get("action"), {"DialCallStatus": "no-answer"}
                    break
                elif verb.tag == "Record":
                    if echo:
                        print("[recording a voicemail]")
                    next_path, form = verb.get("action"), self._recorded(verb)
                    break
                elif verb.tag == "Hangup":
                    self.ended = "bot hung up"
                    break
            if next_path is None:
                self.ended = self.ended or "call ended"
                break
            root = self._post(next_path, form)
        self.transport("/twilio/status", {"CallSid": self.sid, "From": self.caller, "CallStatus": "completed"})
        return self


def http_transport(base_url: str, auth_token: str, public_base_url: str | None = None) -> Transport:
    """Signed requests to a running web app (signed for PUBLIC_BASE_URL when the app expects it)."""
    validator = RequestValidator(auth_token)
    http = requests.Session()

    def post(path: str, form: dict[str, str]) -> tuple[int, str]:
        signed_url = urljoin((public_base_url or base_url).rstrip("/") + "/", path.lstrip("/"))
        headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, form)}
        response = http.post(
            urljoin(base_url.rstrip("/") + "/", path.lstrip("/")), data=form, headers=headers, timeout=20
        )
        return response.status_code, response.text

    return post


def _typed() -> Iterator[str | None]:
    while True:
        try:
            yield input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Call the hotline of the running assistant from a terminal.")
    parser.add_argument("--caller", default="+8613900001001", help="the caller ID to present")
    parser.add_argument("--script", nargs="*", help="inputs to give in turn (keys:… for keypad), then hang up")
    args = parser.parse_args(argv)
    env = merged_environment()
    base = f"http://127.0.0.1:{env.get('WEB_PORT') or 8000}"
    transport = http_transport(base, env.get("TWILIO_AUTH_TOKEN", ""), env.get("PUBLIC_BASE_URL") or None)
    print("Calling the hotline: speak by typing; keys:123# for the keypad (* is X); Ctrl-D hangs up.")
    try:
        call = Call(transport, caller=args.caller).run(iter(args.script) if args.script is not None else _typed())
    except requests.RequestException:
        print(f"No answer at {base}: start the assistant with `make run`.", file=sys.stderr)
        return 1
    print(f"[{call.ended}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

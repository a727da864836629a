"""A real SMTP server (on loopback unless told otherwise) that saves every message as an ``.eml`` file (demo and
tests)."""

from __future__ import annotations

import argparse
import itertools
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class SaveToFolder:
    """aiosmtpd handler: one ``NNNN-<timestamp>.eml`` file per message, in arrival order."""

    def __init__(self, folder: Path, refuse: frozenset[str] = frozenset()):
        """Write received mail into ``folder``; refuse the addresses in ``refuse``."""
        self.folder = folder
        self.refuse = {a.lower() for a in refuse}  # addresses answered "550 no such user" (a bounce)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(len(list(self.folder.glob("*.eml"))) + 1)
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ARG002 - aiosmtpd's hook
        """Accept a recipient, or refuse it as unknown (a bounce)."""
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ARG002 - aiosmtpd's hook name
        """Store the received message as a numbered .eml file."""
        with self._lock:
            number = next(self._numbers)
        path = self.folder / f"{number:04d}-{time.strftime('%Y%m%dT%H%M%S')}.eml"
        tmp = path.with_suffix(".part")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.replace(path)
        return "250 Message accepted for delivery"


def start(
    folder: Path, host: str = "127.0.0.1", port: int = 0, refuse: frozenset[str] = frozenset()
) -> Controller:
    """Start the sink in a background thread; ``port=0`` picks a free port (read ``controller.port``)."""
    controller = Controller(SaveToFolder(folder, refuse), hostname=host, port=port or _free_port(host))
    controller.start()
    return controller


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def main() -> None:
    """Run the SMTP sink until interrupted."""
    parser = argparse.ArgumentParser(description="SMTP sink: saves each message as an .eml file")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    controller = start(args.folder, host=args.host, port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"SMTP sink on {args.host}:{controller.port} → {args.folder}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()

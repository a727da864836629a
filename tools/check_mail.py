"""Read every .eml a run left (``make demo`` → ``out/mail/``) as a recipient's mail client would, and report each
problem: headers (an encoded word over 75 characters, a Subject or display name that does not decode back to
readable text, no Date, Message-ID or Reply-To), attachments (a content type that does not match the file, a name
that is not RFC 2231/2047 encoded when it needs to be), and the reader (a link to the Airflow UI, or "do not
reply", in mail to anyone but the coordinators and SNV's leader; a salutation that names a district, town or city
as "Thủ trưởng Huyện …").

    .venv/bin/python tools/check_mail.py [folder] [--campaign include/campaigns/ha_tinh_2023.yaml]

Prints one line per problem and a summary; exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import email
import re
import sys
from collections import Counter
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

ENCODED_WORD = re.compile(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=")
AIRFLOW_LINK = re.compile(r"https?://[^\s\"'<>]*/(dags|auth|api)/")
BAD_SALUTATION = re.compile(r"Thủ trưởng (Huyện|Thị xã|Thành phố|UBND)")
NO_REPLY = "đừng trả lời"


# A checklist: one independent test per problem a client could see in a message.
def problems_of(path: Path, insiders: set[str]) -> list[str]:  # noqa: C901
    """Every problem of one message; ``insiders`` are the addresses that may get Airflow links."""
    from par_index.notify import content_type

    raw = path.read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", errors="replace")
    message = email.message_from_bytes(raw, policy=policy.default)
    found = []
    for word in ENCODED_WORD.findall(head):
        if len(word) > 75:
            found.append(f"encoded word of {len(word)} characters (limit 75): {word[:40]}…")
    for name in ("Date", "Message-ID", "Reply-To", "Subject", "From", "To"):
        if message[name] is None:
            found.append(f"no {name} header")
    subject = str(message["Subject"] or "")
    if "=?" in subject or "\ufffd" in subject:
        found.append(f"Subject does not decode: {subject[:60]}")
    for part in message.iter_attachments():
        name = part.get_filename() or ""
        maintype, subtype = content_type(name)
        if part.get_content_type() != f"{maintype}/{subtype}":
            found.append(f"attachment {name}: {part.get_content_type()} (expected {maintype}/{subtype})")
    to = {a.addr_spec.lower() for a in message["To"].addresses} if message["To"] else set()
    if to - insiders:
        for part in (message.get_body(("plain",)), message.get_body(("html",))):
            text = part.get_content() if part else ""
            if AIRFLOW_LINK.search(text):
                found.append(f"Airflow link in mail to {', '.join(sorted(to - insiders))}")
            if NO_REPLY in text:
                found.append(f"“{NO_REPLY}” in mail to {', '.join(sorted(to - insiders))}")
    body = message.get_body(("plain",))
    if body and (match := BAD_SALUTATION.search(body.get_content())):
        found.append(f"salutation “{match.group(0)} …”")
    return sorted(set(found))


def main() -> int:
    """Check every message in the folder; print the problems found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=ROOT / "out" / "mail")
    parser.add_argument("--campaign", type=Path, default=ROOT / "include" / "campaigns" / "ha_tinh_2023.yaml")
    args = parser.parse_args()
    from par_index.campaign import load_campaign

    campaign = load_campaign(args.campaign)
    insiders = {c.email.lower() for c in campaign.contacts.coordinators} | {
        campaign.contacts.snv_leader.email.lower()
    }
    paths = sorted(args.folder.glob("*.eml"))
    kinds: Counter = Counter()
    for path in paths:
        for problem in problems_of(path, insiders):
            print(f"{path.name}: {problem}")
            kinds[re.sub(r"[:(“].*", "", problem).strip()] += 1
    print(
        f"{len(paths)} mails read; {sum(kinds.values())} problems"
        + (": " + ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common()) if kinds else "")
    )
    return 1 if kinds else 0


if __name__ == "__main__":
    sys.exit(main())

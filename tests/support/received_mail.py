"""The mail a test's SMTP sink received, parsed."""

import email
from email import policy
from pathlib import Path


def read_mails(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))
    ]

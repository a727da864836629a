"""Email addresses as the project accepts them (from forms, campaign files) and puts them on the wire: validated by
``email-validator`` (syntax only: no DNS lookup), compared in lower case, and given to mail headers as
``email.headerregistry.Address`` objects, never by joining strings."""

from __future__ import annotations

from collections.abc import Iterable
from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email

from par_index.text import nfc


class InvalidAddress(ValueError):
    """Not an email address a mail server would deliver to."""


def normalise_address(text: str) -> str:
    """``text`` as one valid address, in lower case; raises :class:`InvalidAddress`."""
    candidate = nfc(text).strip()
    try:
        valid = validate_email(
            candidate, check_deliverability=False, allow_quoted_local=False, allow_domain_literal=False
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(candidate) from exc
    return valid.normalized.lower()


def header_addresses(addresses: Iterable[str]) -> tuple[Address, ...]:
    """Addresses for a ``To``/``Cc`` header (each validated again: the store may hold older rows)."""
    found = []
    for address in addresses:
        local, _, domain = normalise_address(address).rpartition("@")
        found.append(Address(username=local, domain=domain))
    return tuple(found)

"""Email addresses: validated by email-validator (syntax, no DNS), lower case, and on the wire as Address objects."""

import pytest
from par_index.addresses import InvalidAddress, header_addresses, normalise_address


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("A.Nguyen@HaTinh.Example", "a.nguyen@hatinh.example"),
        ("  stp@hatinh.gov.vn ", "stp@hatinh.gov.vn"),
        ("cchc+2023@hatinh.gov.vn", "cchc+2023@hatinh.gov.vn"),
    ],
)
def test_a_valid_address_is_kept_in_lower_case(written, stored):
    assert normalise_address(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        'x"><svg/onload=alert(1)>@hatinh.example',  # markup: would end up in headers and pages
        "a(at)hatinh",
        "a@hatinh",
        "a@@hatinh.example",
        "Nguyễn Văn A <a@hatinh.example>",
        "a@hatinh.example, b@x.vn",
        "a@hatinh.example\r\nBcc: all@x.vn",
        "",
        "@hatinh.example",
    ],
)
def test_anything_else_is_refused(written):
    with pytest.raises(InvalidAddress):
        normalise_address(written)


def test_headers_get_address_objects_never_joined_text():
    addresses = header_addresses(["STP@HaTinh.Example", "snv@hatinh.example"])
    assert [(a.username, a.domain, str(a)) for a in addresses] == [
        ("stp", "hatinh.example", "stp@hatinh.example"),
        ("snv", "hatinh.example", "snv@hatinh.example"),
    ]
    with pytest.raises(InvalidAddress):
        header_addresses(["stp@hatinh.example", 'x"><svg/onload=alert(1)>@hatinh.example'])

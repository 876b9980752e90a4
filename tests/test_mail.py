"""The mail transport against a real SMTP server (aiosmtpd) on loopback, and the .eml outbox."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from smtp_support import smtp_sink

from privacy_service.mail import MailError, build_message, send_message


def _message(**extra: str):  # type: ignore[no-untyped-def]
    return build_message(
        to="kari.nordmann@example.no",
        subject="Samtykket ditt er trukket tilbake – æøå",
        text="Hei Kari,\nvi har slettet svarene dine. Blåbær.",
        sender="personvern@helsedir.no",
        **extra,
    )


def test_a_message_reaches_the_server_with_the_one_click_headers(tmp_path: Path) -> None:
    with smtp_sink() as sink:
        where = send_message(
            _message(list_unsubscribe_url="https://x.example/consent/withdraw/T"),
            smtp_url=sink.url,
            outbox_dir=tmp_path,
        )
        assert where == f"smtp:127.0.0.1:{sink.port}"
        (got,) = sink.messages
    assert got["Subject"] == "Samtykket ditt er trukket tilbake – æøå"
    assert "Blåbær" in got.get_body(preferencelist=("plain",)).get_content()
    assert got["List-Unsubscribe"] == "<https://x.example/consent/withdraw/T>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["Message-ID"].endswith("@helsedir.no>")
    assert sink.envelopes == [("personvern@helsedir.no", ["kari.nordmann@example.no"])]


def test_without_smtp_the_message_is_an_eml_file(tmp_path: Path) -> None:
    where = send_message(_message(), smtp_url=None, outbox_dir=tmp_path / "outbox")
    (path,) = (tmp_path / "outbox").glob("*.eml")
    assert where == f"file:{path}"
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["To"] == "kari.nordmann@example.no" and "List-Unsubscribe" not in parsed
    assert not list((tmp_path / "outbox").glob("*.tmp"))


def test_a_server_that_is_down_raises_without_the_password_or_recipient(tmp_path: Path) -> None:
    with smtp_sink() as sink:
        url = f"smtp://dpo:s3cret%40pw@127.0.0.1:{sink.port}"
    with pytest.raises(MailError) as err:  # the server is stopped now
        send_message(_message(), smtp_url=url, outbox_dir=tmp_path, timeout=2)
    assert "s3cret" not in str(err.value) and "kari" not in str(err.value)
    assert f"127.0.0.1:{sink.port}" in str(err.value)


def test_a_temporary_failure_is_an_error_the_outbox_retries(tmp_path: Path) -> None:
    with smtp_sink() as sink:
        sink.fail_with = "451 4.3.0 try again later"
        with pytest.raises(MailError, match="451"):
            send_message(_message(), smtp_url=sink.url, outbox_dir=tmp_path)
        sink.fail_with = None
        send_message(_message(), smtp_url=sink.url, outbox_dir=tmp_path)
        assert len(sink.messages) == 1


def test_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MailError, match="Unsupported"):
        send_message(_message(), smtp_url="http://mail.example", outbox_dir=tmp_path)

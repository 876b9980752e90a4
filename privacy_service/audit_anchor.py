"""The audit chain's head, anchored outside the database (DESIGN.md §7).

The hash chain shows an edited, reordered or missing event, but not the newest events cut off at its end: the
shorter chain is still a valid chain. So every verify (API and CLI) and a daily job write the verified head
(seq, hash, when, how many events) as one line to an append-only file, signed with HMAC-SHA256 under a key
the database does not hold (PRIVACY_AUDIT_ANCHOR_KEY). A later verify holds the chain to the newest valid
line: the chain must still hold that event with that hash. Someone who can rewrite the database but neither
rewrite the file (append-only storage) nor sign a line cannot cut the chain unnoticed.

The file is read from its end, a block at a time, until the newest line signed with the current key: a long
file stays cheap. A line is appended with one write on a descriptor opened O_APPEND, then fsynced; the file is
never rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import SYSTEM, AnchorReport, VerifyResult, record_event, verify_chain
from privacy_service.kernel import utcnow

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

FILE_NAME = "audit-anchor.log"
BLOCK = 64 * 1024
UNKEYED = (
    "the anchor key is not set (PRIVACY_AUDIT_ANCHOR_KEY): anchors are signed with a key derived from the "
    "secret key, which whoever holds the secret key can forge"
)


@dataclass(frozen=True)
class AnchorKey:
    """The key anchors are signed with, and whether it is the dedicated one."""

    secret: bytes
    keyed: bool

    @property
    def kid(self) -> str:
        """A short id of the key, so lines signed before a key change are told apart from forged ones."""
        return hmac.new(self.secret, b"key id", hashlib.sha256).hexdigest()[:16]

    def sign(self, fields: Mapping[str, Any]) -> str:
        body = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"))
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """One anchor line: the chain's head as a verify saw it."""

    seq: int
    hash: str
    at: str
    count: int


def anchor_key(anchor_secret: str | None, secret_key: str) -> AnchorKey:
    """The dedicated anchor key, or (unset: development and demo) one derived from the secret key."""
    if anchor_secret:
        return AnchorKey(anchor_secret.encode(), True)  # as given: a line can be checked with openssl
    derived = hmac.new(secret_key.encode(), b"privacy-service audit anchor v1", hashlib.sha256).digest()
    return AnchorKey(derived, False)


def anchor_settings(config: Mapping[str, Any]) -> tuple[Path, AnchorKey]:
    """The anchor file and key from the app's config."""
    given = config.get("PRIVACY_AUDIT_ANCHOR_FILE")
    path = Path(given) if given else Path(config["PRIVACY_INSTANCE_PATH"]) / FILE_NAME
    return path, anchor_key(config.get("PRIVACY_AUDIT_ANCHOR_KEY"), config["SECRET_KEY"])


def append_anchor(path: Path, key: AnchorKey, anchor: Anchor) -> str:
    """Append one signed line and return it; O_APPEND and a single write, so concurrent writers never
    interleave."""
    fields = {"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at, "count": anchor.count, "kid": key.kid}
    line = json.dumps({**fields, "mac": key.sign(fields)}, sort_keys=True, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return line.rstrip("\n")


def read_anchors(path: Path, key: AnchorKey) -> tuple[Anchor | None, AnchorReport]:
    """Check the file's lines from its end back to the newest block with a line signed with this key, and
    return that block's highest anchor.

    Every line of the blocks read is checked; older blocks are not read once an anchor is found.
    """
    report = AnchorReport(keyed=key.keyed)
    if not path.exists():
        return None, report
    newest: Anchor | None = None
    number = 0
    for lines in _blocks_from_end(path):
        for raw in lines:
            number += 1
            report.lines_checked += 1
            state, anchor = _check_line(raw, key)
            if state == "bad":
                report.bad_lines.append(number)
            elif state == "other_key":
                report.other_key_lines += 1
            elif newest is None or (anchor is not None and anchor.seq > newest.seq):
                newest = anchor  # the highest: two verifies at once may append their heads out of order
        if newest is not None:
            break
    return newest, report


def _blocks_from_end(path: Path) -> Iterator[list[bytes]]:
    """Yield the file's lines a block at a time, the last block first and each block's lines last first."""
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        carry = b""
        while end > 0:
            start = max(0, end - BLOCK)
            fh.seek(start)
            chunk = fh.read(end - start) + carry
            end = start
            carry = b""
            if start > 0:  # the block's first line may begin in the block before: read it with that one
                carry, _, chunk = chunk.partition(b"\n")
            yield [line for line in reversed(chunk.split(b"\n")) if line.strip()]


def _check_line(raw: bytes, key: AnchorKey) -> tuple[str, Anchor | None]:
    """("ok", anchor), ("other_key", None) for a line signed with another key, or ("bad", None)."""
    try:
        entry = json.loads(raw)
        fields = {name: entry[name] for name in ("seq", "hash", "at", "count", "kid")}
        mac = entry["mac"]
        anchor = Anchor(
            seq=int(fields["seq"]), hash=str(fields["hash"]), at=str(fields["at"]), count=int(fields["count"])
        )
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError):
        return "bad", None
    if fields["kid"] != key.kid:
        return "other_key", None
    if not isinstance(mac, str) or not hmac.compare_digest(mac, key.sign(fields)):
        return "bad", None
    return "ok", anchor


def verify_anchored(session: Session, *, path: Path, key: AnchorKey) -> VerifyResult:
    """Verify the chain and hold it to its newest anchor; when both hold, anchor the head verified now."""
    # The file is read before the chain: an anchor written meanwhile by another verify may name events this
    # walk does not see yet, and must not count against it.
    try:
        newest, report = read_anchors(path, key)
    except OSError as err:  # the chain cannot be held to its anchor: that is a failed verify, not a crash
        log.error("the audit anchor file cannot be read: %s", err.strerror)
        reason = f"the anchor file cannot be read: {err.strerror}"
        return VerifyResult(False, 0, reason=reason, anchor=AnchorReport(keyed=key.keyed))
    result = verify_chain(session, mark_seq=newest.seq if newest else 0)
    result.anchor = report
    if newest is not None:
        report.anchored_seq, report.anchored_hash, report.anchored_at = newest.seq, newest.hash, newest.at
    if not key.keyed:
        report.warnings.append(UNKEYED)
    if report.other_key_lines:
        report.warnings.append(
            f"{report.other_key_lines} anchor line(s) signed with another key were not checked"
        )
    fault = _anchor_fault(result, newest, report) if result.ok else None
    if fault is not None:
        result.ok, result.first_bad_seq, result.reason = False, fault[0], fault[1]
    if result.ok:
        _anchor_head(result, path=path, key=key)
    return result


def _anchor_head(result: VerifyResult, *, path: Path, key: AnchorKey) -> None:
    """Append the verified head; a file that cannot be written leaves the chain verified, with a warning."""
    assert result.anchor is not None and result.head_seq is not None
    at = utcnow().isoformat(timespec="seconds")
    head = Anchor(seq=result.head_seq, hash=result.head_hash, at=at, count=result.events)
    try:
        result.anchor.written_line = append_anchor(path, key, head)
    except OSError as err:  # only this anchor is lost, which the operator must hear of
        log.error("the audit anchor file cannot be written: %s", err.strerror)
        result.anchor.warnings.append(f"the anchor was not written: {err.strerror}")
        return
    result.anchor.written_seq = result.head_seq


def _anchor_fault(
    result: VerifyResult, newest: Anchor | None, report: AnchorReport
) -> tuple[int | None, str] | None:
    if report.bad_lines:
        where = ", ".join(str(n) for n in report.bad_lines)
        return None, f"anchor file line(s) {where} from its end do not match their HMAC (edited or forged)"
    if newest is None or newest.seq == 0:
        return None
    assert result.head_seq is not None
    if result.head_seq < newest.seq:
        return result.head_seq + 1, (
            f"the chain ends at event {result.head_seq} but was anchored at event {newest.seq} on "
            f"{newest.at}: events were removed"
        )
    if result.marked_hash != newest.hash:
        return newest.seq, (
            f"event {newest.seq} does not match its anchor of {newest.at}: the chain was rewritten after it"
        )
    return None


def anchor_job(app: Flask) -> None:
    """Verify the chain and anchor its head (daily); a fault is logged, and nothing is anchored. With
    PRIVACY_AUDIT_ANCHOR_MAIL set, the anchor line or the fault is mailed there too."""
    path, key = anchor_settings(app.config)
    mail_to = app.config.get("PRIVACY_AUDIT_ANCHOR_MAIL")
    with Session(app.extensions["engine"]) as session, session.begin():
        result = verify_anchored(session, path=path, key=key)
        if mail_to:
            _mail_anchor(session, to=mail_to, result=result)
    if not result.ok:
        log.error("audit verify failed at event %s: %s", result.first_bad_seq, result.reason)


def _mail_anchor(session: Session, *, to: str, result: VerifyResult) -> None:
    """Queue the anchor (or the fault) for the mailbox, recorded in the chain in the same transaction."""
    assert result.anchor is not None
    if result.ok:
        subject = f"Audit trail anchored at event {result.head_seq}"
        text = f"The audit trail verified and was anchored. Keep this line:\n\n{result.anchor.written_line}\n"
    else:
        subject = "Audit trail verification FAILED"
        text = f"The audit trail did not verify at event {result.first_bad_seq}:\n\n{result.reason}\n"
    text += "".join(f"\nwarning: {w}" for w in result.anchor.warnings)
    notify.enqueue_email(session, event="audit.anchor", to=to, subject=subject, text=text)
    details = {"ok": result.ok, "anchored_seq": result.anchor.written_seq}
    record_event(
        session,
        actor=SYSTEM,
        action="audit.anchor_mailed",
        object_type="audit",
        object_id="anchor",
        details=details,
    )

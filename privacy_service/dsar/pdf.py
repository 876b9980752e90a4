"""The answer letter, in the subject's language only: what we found, did or refused and why, in plain words
with the article in brackets; for access the data as label/value pairs and everything Art. 15(1) lists;
whom to contact and where to complain.

The letter is built as blocks (letter.py) and rendered as PDF for the subject and as HTML for the officer's
draft, so what the officer reads is what the subject gets. The main part holds only the activities where
something was found, decided or refused; the rest is summarised in a sentence per kind. No text here comes
from the plan's English reasons, a hold's internal note, a slug or a column name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from reportlab.platypus import Flowable

from privacy_service.catalogue import ByLanguage
from privacy_service.documents import build_pdf, contact_rows, dpo_text, letterhead
from privacy_service.dsar import appeals, decisions, withholding
from privacy_service.dsar.answer import Answer
from privacy_service.dsar.letter import Block, to_flowables, to_html
from privacy_service.dsar.models import DsarOutcome
from privacy_service.kernel import LEGAL_BASES, record_bases, record_rights
from privacy_service.retention.service import public_text
from privacy_service.ropa import service as ropa_service
from privacy_service.wording import OSLO, localised, period_text, yes_no

MAX_ROWS_IN_LETTER = 25  # per table; every row is in the attached files

L = ByLanguage("letter")

MAIN = ("done", "partial", "refused", "forwarded")  # outcomes the letter's main part sets out


def language(answer: Answer) -> str:
    """The letter's language: the request's, bokmål unless it is English."""
    return answer.request.language if answer.request.language in L else "nb"


def render_letter(answer: Answer) -> bytes:
    """The answer letter as PDF bytes."""
    lang = language(answer)
    t, req = L[lang], answer.request
    story: list[Flowable] = letterhead(
        controller(answer), title=f"{t['title']}", lang=lang, extra_rows=head_rows(answer)
    )
    story += to_flowables(letter_blocks(answer))
    return build_pdf(story, title=f"{t['title']} {req.reference}", lang=lang, footer=req.reference)


def render_letter_html(answer: Answer) -> Markup:
    """The same letter as an HTML fragment, for the officer to read before it is sent."""
    lang = language(answer)
    org = controller(answer)
    head: list[Block] = [("p", localised(org.get("name"), lang))] if org else []
    head += [("pairs", [*contact_rows(org, lang), *head_rows(answer)]), ("h1", L[lang]["title"])]
    return to_html(head + letter_blocks(answer))


def controller(answer: Answer) -> dict[str, Any]:
    """The organisation that answers: the controller of the first activity, else the Directorate."""
    first = next(iter(answer.activities.values()), {})
    orgs = answer.organisations
    return orgs.get(first.get("controller") or "helsedir") or orgs.get("helsedir") or {}


def head_rows(answer: Answer) -> list[tuple[str, str]]:
    """To whom, the date, our reference."""
    lang, req = language(answer), answer.request
    t = L[lang]
    rows = []
    if addressee := req.subject_name or req.subject_email:
        rows.append((t["to"], addressee))
    return rows + [(t["date"], long_date(answer.generated_at, lang)), (t["reference"], req.reference)]


def long_date(value: datetime | date | str, lang: str) -> str:
    """A date as a letter writes it: "5. desember 2026", "5 December 2026" (Norwegian time)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(ZoneInfo(OSLO))
    t = L[lang]
    return t["date_format"].format(d=value.day, month=t["months"][value.month - 1], y=value.year)


def letter_blocks(answer: Answer) -> list[Block]:
    """The letter below its head: opening, what we did, the rest in a sentence, the data, whom to contact,
    where to complain."""
    lang, req = language(answer), answer.request
    t = L[lang]
    names = {slug: localised(a.get("name"), lang) or slug for slug, a in answer.activities.items()}
    blocks: list[Block] = [
        ("p", t["opening"].format(received=long_date(req.received_at, lang), type=t["types"][req.type]))
    ]
    main = [o for o in answer.outcomes if _in_main(o)]
    rest = [o for o in answer.outcomes if not _in_main(o)]
    reviewed = t["reviewed_one"] if len(answer.outcomes) == 1 else t["reviewed"]
    summary = reviewed.format(n=len(answer.outcomes)) + " "
    summary += (
        t["main_none"]
        if not main
        else t["main_one"]
        if len(main) == 1
        else t["main_some"].format(n=len(main))
    )
    blocks.append(("p", summary))
    blocks += _rest_sentences(rest, answer, names, lang, others=bool(main))
    if main:
        blocks.append(("h1", t["found"] if req.type == "access" else t["what"]))
    for o in main:
        blocks += _activity_blocks(o, answer, names, lang)
    blocks += _recipients(answer, lang)
    if req.type == "access":
        blocks += _consents_and_earlier(answer, names, lang)
    blocks += withholding.letter_blocks(answer, lang)  # what was withheld and why (Art. 12(4))
    blocks += appeals.letter_blocks(answer, lang)  # an individual decision: how to appeal it
    if answer.rows:
        blocks.append(("muted", t["files"]))
    blocks += _contact_blocks(answer, lang)
    return blocks


def _recipients(answer: Answer, lang: str) -> list[Block]:
    """Art. 19: whom we told of the change, and whom not and why (impossible, or a disproportionate
    effort); recipients the officer has yet to decide on are left out."""
    t = L[lang]
    told = sorted({_org_name(answer, n, lang) for o in answer.outcomes for n in o.details.get("told", [])})
    out: list[Block] = [("p", t["told"].format(names=_join(told, lang)))] if told else []
    untold = {
        (localised(r.get("name"), lang) or _org_name(answer, str(r.get("organisation")), lang), r["reason"])
        for o in answer.outcomes
        for r in o.details.get("recipients") or []
        if r.get("state") == "not_told" and r.get("reason") in t["not_told_why"]
    }
    out += [("p", t["not_told"].format(name=n, why=t["not_told_why"][why])) for n, why in sorted(untold)]
    return out


def _in_main(o: DsarOutcome) -> bool:
    """Found, done or refused; an officer's refusal where nothing was found is moot: the rest says so."""
    return o.outcome in MAIN


def _rest_sentences(
    rest: list[DsarOutcome], answer: Answer, names: dict[str, str], lang: str, *, others: bool
) -> list[Block]:
    """One sentence for the activities where nothing was found, one per reason a right does not apply."""
    t = L[lang]
    out: list[Block] = []
    empty = [names[o.activity] for o in rest if o.outcome == "no_data"]
    if empty:
        key = "no_data_all" if not others else "no_data_rest_one" if len(empty) == 1 else "no_data_rest"
        out.append(("p", t[key].format(n=len(empty), names=_join(empty, lang))))
    groups: dict[str, list[str]] = {}
    for o in rest:
        if o.outcome == "not_applicable":
            why = _not_applicable_why(answer.request.type, answer.activities.get(o.activity, {}), lang)
            groups.setdefault(why, []).append(names[o.activity])
    for why, group in groups.items():
        out.append(("p", t["na_rest"].format(names=_join(group, lang), why=why)))
    return out


def _join(items: list[str], lang: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + (" og " if lang == "nb" else " and ") + items[-1]


def _not_applicable_why(right: str, record: Mapping[str, Any], lang: str) -> str:
    t = L[lang]
    bases, _art9 = record_bases(record)
    if right == "objection":
        return t["na_objection_consent"] if set(bases) == {"6(1)(a)"} else t["na_objection"]
    if right == "portability":
        return t["na_portability_task"] if "6(1)(e)" in bases else t["na_portability"]
    if right == "consent_withdrawal":
        return t["na_withdrawal"]
    return t["na_default"]


def _activity_blocks(o: DsarOutcome, answer: Answer, names: dict[str, str], lang: str) -> list[Block]:
    """One activity of the main part: the result, the reasons, what was kept; for access its data."""
    t, right = L[lang], answer.request.type
    record = answer.activities.get(o.activity, {})
    pairs: list[tuple[str, Any]] = [(t["result"], _result(o, right, record, lang))]
    if o.outcome == "refused" and o.decision == "refuse":
        pairs.append((t["ground"], decisions.ground_text(o.decision_ground, lang)))
        if reasons := (o.decision_reasons or "").strip():
            pairs.append((t["why"], reasons))
    count = o.records if o.records is not None else o.manual_records
    if count and o.outcome in ("done", "partial") and right not in ("access", "portability"):
        pairs.append((t["records"], str(count)))
    by_rule = o.outcome == "refused" and o.legal_ground in ("Art. 17(3)(b)", "Art. 17(3)(d)")  # said above
    if o.held and (holds := o.details.get("holds") or []) and right in ("erasure", "access") and not by_rule:
        # erasure: what could not go; access: data kept beyond its retention (Art. 15(1)(d)), and why
        texts = (public_text(h.get("kind", "other"), h.get("public_text"), lang) for h in holds)
        label = t["kept"] if right == "erasure" else t["kept_longer"]
        pairs.append((label, t["kept_text"].format(n=o.held, why=" ".join(dict.fromkeys(texts)))))
    blocks: list[Block] = [("h2", names[o.activity]), ("pairs", pairs)]
    if right == "access" and o.outcome in ("done", "partial"):
        blocks += _about(record, answer, lang)
        blocks += _data(o, answer, record, lang)
    return blocks


def _result(o: DsarOutcome, right: str, record: Mapping[str, Any], lang: str) -> str:
    """The result of one activity in words: done, partly, refused with its ground, sent on."""
    t = L[lang]
    if o.outcome == "refused" and o.decision == "refuse":
        return t["refused"]  # the ground and the officer's reasons follow as their own lines
    if o.outcome == "refused":
        if o.legal_ground == "Art. 17(3)(d)":
            return t["archive"]
        if o.legal_ground == "Art. 17(3)(b)":
            kept = localised((record.get("retention") or {}).get("text"), lang) or t["obligation_default"]
            return t["obligation"].format(retention=kept.rstrip("."))
        return t["all_held"] if o.held else t["refused"]
    if o.outcome == "forwarded" or o.manual_result in ("sent_to_controller", "found_handled"):
        return decisions.manual_text(o, lang)
    if o.outcome == "partial":
        return t["partial"].get(right, t["partial"]["default"])
    return t["done"][right] if o.outcome == "done" else t["unfinished"]


def _about(record: Mapping[str, Any], answer: Answer, lang: str) -> list[Block]:
    """What Art. 15(1)(a)–(h) asks for, from the activity's record."""
    t = L[lang]
    bases, art9 = record_bases(record)
    retention = record.get("retention") or {}
    kept_for = localised(retention.get("text"), lang) or period_text(retention.get("period"), lang)
    rights = [t["rights_words"][r["right"]] for r in record_rights(record) if r["applies"]]
    pairs: list[tuple[str, Any]] = [
        (t["purposes"], [localised(p, lang) for p in record.get("purposes") or []] or t["none"]),
        (t["basis"], [LEGAL_BASES.get(b, {}).get(lang, b) for b in bases] or t["none"]),
    ]
    if national := localised(record.get("national_basis"), lang):
        pairs.append((t["national"], national))
    if art9:
        pairs.append((t["special"], [t["art9"].get(c, c) for c in art9]))
    pairs += [
        (t["categories"], [localised(c.get("name"), lang) for c in record.get("data_categories") or []]),
        (t["recipients"], [_recipient(r, answer, lang) for r in record.get("recipients") or []] or t["none"]),
        (t["retention"], kept_for),
        (t["source"], localised(record.get("source"), lang) or t["none"]),
        (t["rights"], rights),
    ]
    if transfers := record.get("transfers"):
        pairs.append((t["transfers"], [ropa_service.transfer_text(x, lang) for x in transfers]))
    # Art. 15(1)(h): the ground, the logic and the significance, not a pointer to the notice
    automated = ropa_service.automated_decision_rows(record, lang)
    pairs.append((t["automated"], [f"{k}: {v}" for k, v in automated] if automated else t["no_automated"]))
    return [("muted", t["about"]), ("pairs", pairs)]


def _recipient(value: Any, answer: Answer, lang: str) -> str:
    """A recipient as the record names it: a text, or an organisation of the registry."""
    if isinstance(value, Mapping) and "organisation" in value:
        return _org_name(answer, str(value["organisation"]), lang)
    return localised(value, lang)


def _org_name(answer: Answer, key: str, lang: str) -> str:
    org = answer.organisations.get(key)
    return localised(org.get("name"), lang) if org else key


def _data(o: DsarOutcome, answer: Answer, record: Mapping[str, Any], lang: str) -> list[Block]:
    """The subject's rows, each as label/value pairs named by the data map's category labels."""
    t = L[lang]
    labels = {c.get("key"): localised(c.get("name"), lang) for c in record.get("data_categories") or []}
    blocks: list[Block] = []
    for table in answer.rows.get(o.activity, []):
        shown = table.rows[:MAX_ROWS_IN_LETTER]
        if shown:
            blocks.append(("muted", t["data"]))
        for i, row in enumerate(shown, start=1):
            grouped: dict[str, list[str]] = {}  # columns of one category are one pair, in column order
            for column, category in table.categories.items():
                if column != table.key and row.get(column) not in (None, ""):
                    label = labels.get(category) or labels.get(column) or t["data"]
                    grouped.setdefault(label, []).append(_value(row[column], lang))
            if len(shown) > 1:
                blocks.append(("muted", t["record"].format(i=i, n=len(table.rows))))
            blocks.append(("pairs", [(k, v[0] if len(v) == 1 else v) for k, v in grouped.items()]))
        if len(table.rows) > len(shown):
            blocks.append(("muted", t["more_rows"].format(shown=len(shown), total=len(table.rows))))
    return blocks


def _value(value: Any, lang: str) -> str:
    """A stored value as a person reads it: dates in Norwegian time, yes/no for flags; a structured value
    (answers stored as JSON) by its values alone, never its keys."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return "; ".join(_value(v, lang) for v in value if v not in (None, ""))
    if isinstance(value, bool):
        return yes_no(value, lang)
    if isinstance(value, datetime | date):
        return long_date(value, lang) + (f" {value:%H:%M}" if isinstance(value, datetime) else "")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return _value(moment, lang)
    return str(value)


def _consents_and_earlier(answer: Answer, names: dict[str, str], lang: str) -> list[Block]:
    t = L[lang]
    blocks: list[Block] = []
    if answer.consents:
        lines = []
        for c in answer.consents:
            last = c["history"][-1]["at"] if c["history"] else None
            purpose = names.get(c["purpose"]) or localised(answer.purposes.get(c["purpose"]), lang)
            status = t["consent_status"].get(c["status"], c["status"])
            lines.append(t["consent_line"].format(purpose=purpose, status=status,
                                                  at=long_date(last, lang) if last else "–"))  # fmt: skip
        blocks += [("h1", t["consents"]), ("list", lines)]
    if answer.earlier:
        lines = [
            t["earlier_line"].format(
                reference=e["reference"],
                type=t["earlier_types"].get(e["type"], e["type"]),
                received=long_date(e["received_at"], lang),
                status=t["status"].get(e["status"], e["status"]),
            )
            for e in answer.earlier
        ]
        blocks += [("h1", t["earlier"]), ("list", lines)]
    return blocks


def _contact_blocks(answer: Answer, lang: str) -> list[Block]:
    t, org = L[lang], controller(answer)
    email = org.get("email")
    at = (" på " if lang == "nb" else " at ") + email if email else ""
    text = t["contact"].format(email=at, reference=answer.request.reference)
    if dpo := dpo_text(org):
        text += t["contact_dpo"].format(dpo=dpo)
    return [("h1", t["contact_head"]), ("p", text), ("h1", t["complain_head"]), ("p", t["complain"])]

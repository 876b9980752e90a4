"""The public privacy notice of a service as a PDF, in plain language for data subjects (GDPR Art. 13–14)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from privacy_service.documents import build_pdf, contact_rows, dpo_text, key_value_table, letterhead, para
from privacy_service.kernel import RIGHTS
from privacy_service.ropa.pdf.labels import DATATILSYNET, NOTICE_LABELS
from privacy_service.ropa.texts import (
    art9_conditions_text,
    automated_decision_rows,
    legal_bases_text,
    org_name,
    transfer_text,
)
from privacy_service.wording import localised, org_number_text, period_text, text


def _labels(lang: str) -> dict[str, Any]:
    return NOTICE_LABELS.get(lang, NOTICE_LABELS["en"])


def _legal_basis(a: dict[str, Any], lang: str) -> list[str]:
    out = [legal_bases_text(a, lang), localised(a.get("national_basis"), lang)]
    out.append(art9_conditions_text(a, lang))
    return [line for line in out if line]


def _retention(a: dict[str, Any], lang: str) -> str:
    retention = a.get("retention") or {}
    period = period_text(retention.get("period"), lang)
    text_ = localised(retention.get("text"), lang)
    return f"{text_} ({period})" if period and period not in text_ else text_


def _joint_rows(a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str) -> list[tuple[str, Any]]:
    """Art. 26(2): the essence of the joint controllers' arrangement, and the subjects' contact point."""
    L = _labels(lang)  # noqa: N806
    arrangement = a.get("joint_arrangement")
    if not arrangement:
        return []
    contact = arrangement.get("contact_point")
    return [
        (L["joint_essence"], localised(arrangement.get("essence"), lang)),
        (L["joint_contact"], _org_line(orgs, contact, lang) if contact else ""),
    ]


def activity_block(
    a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str, notice_controller: str | None = None
) -> list[Flowable]:
    """Return one activity explained for data subjects: what, why, on which basis, how long, who gets it;
    who is responsible when another body than the notice's controller is, and any automated decisions."""
    L = _labels(lang)  # noqa: N806 - reads as a label table
    processors = [
        org_name(orgs, p.get("organisation"), lang)
        + (f" – {localised(p['task'], lang)}" if p.get("task") else "")
        for p in a.get("processors") or []
    ]
    rows: list[tuple[str, Any]] = [
        (L["purposes"], [localised(p, lang) for p in a.get("purposes") or []]),
        (L["data"], [localised(c.get("name"), lang) for c in a.get("data_categories") or []]),
        (L["subjects"], [localised(s, lang) for s in a.get("data_subjects") or []]),
        (L["source"], localised(a.get("source"), lang)),
        (L["legal_basis"], _legal_basis(a, lang)),
        (L["retention"], _retention(a, lang)),
        (L["recipients"], [localised(r, lang) for r in a.get("recipients") or []]),
        (L["transfers"], [transfer_text(t, lang) for t in a.get("transfers") or []]),
        (L["processors"], processors),
        *_joint_rows(a, orgs, lang),
        (L["automated"], [f"{label}: {value}" for label, value in automated_decision_rows(a, lang)]),
    ]
    if notice_controller and a.get("controller") != notice_controller and not a.get("joint_arrangement"):
        rows.insert(0, (L["own_controller"], _org_line(orgs, a["controller"], lang)))
    rows = [(label, value) for label, value in rows if value]
    story: list[Flowable] = [
        CondPageBreak(45 * mm),
        para(localised(a.get("name"), lang), "h2"),
        para(localised(a.get("description"), lang)),
    ]
    if any(c.get("special") for c in a.get("data_categories") or []):
        story.append(para(L["special"], "muted"))
    return [*story, Spacer(1, 2 * mm), key_value_table(rows, label_width=50 * mm), Spacer(1, 3 * mm)]


def rights_block(activities: list[dict[str, Any]], lang: str) -> list[Flowable]:
    """Return the rights that apply to at least one activity, naming the activities where not all do."""
    L = _labels(lang)  # noqa: N806
    story: list[Flowable] = [CondPageBreak(40 * mm), para(L["rights"], "h1"), para(L["rights_intro"])]
    for right in RIGHTS:
        applies = [
            localised(a.get("name"), lang)
            for a in activities
            if any(r.get("right") == right and r.get("applies") for r in a.get("rights") or [])
        ]
        if not applies:
            continue
        line = L["rights_text"][right]
        if len(applies) < len(activities):
            line += " " + L["applies_to"].format(names=", ".join(applies))
        story += [Spacer(1, 1.5 * mm), para(f"• {line}")]
    return story


def _responsible(
    controller: dict[str, Any] | None,
    orgs: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    lang: str,
) -> list[Flowable]:
    L = _labels(lang)  # noqa: N806
    joint = sorted({s for a in activities for s in a.get("joint_controllers") or []})
    rows: list[tuple[str, Any]] = [(L["controller"], localised((controller or {}).get("name"), lang))]
    rows += contact_rows(controller, lang)
    if dpo_text(controller):
        rows.append((L["dpo"], dpo_text(controller)))
    if joint:
        rows.append((L["joint"], [_org_line(orgs, s, lang) for s in joint]))
    return [para(L["responsible"], "h1"), key_value_table(rows, label_width=50 * mm)]


def _org_line(orgs: dict[str, dict[str, Any]], slug: str, lang: str) -> str:
    org = orgs.get(slug) or {}
    number = f"{text('org_number', lang)} {org_number_text(org, lang)}"
    details = ", ".join(str(v) for v in (number, org.get("email")) if v)
    return f"{org_name(orgs, slug, lang)} ({details})" if details else org_name(orgs, slug, lang)


def _processors(
    orgs: dict[str, dict[str, Any]], activities: list[dict[str, Any]], lang: str
) -> list[Flowable]:
    L = _labels(lang)  # noqa: N806
    slugs = sorted(
        {p["organisation"] for a in activities for p in a.get("processors") or [] if p.get("organisation")}
    )
    if not slugs:
        return []
    lines = [f"• {_org_line(orgs, slug, lang)}" for slug in slugs]
    return [CondPageBreak(30 * mm), para(L["all_processors"], "h1"), para(L["processors_intro"])] + [
        para(line) for line in lines
    ]


def _contact_and_complaint(
    notice: dict[str, Any], controller: dict[str, Any] | None, lang: str
) -> list[Flowable]:
    """How to reach the controller and its DPO, and the right to complain to Datatilsynet (Art. 77)."""
    L = _labels(lang)  # noqa: N806
    contact = [localised(notice.get("contact"), lang)]
    contact += [
        f"{label}: {value}"
        for label, value in contact_rows(controller, lang)
        if label != text("org_number", lang)
    ]
    if dpo_text(controller):
        contact.append(f"{L['dpo']}: {dpo_text(controller)}")
    return [
        CondPageBreak(30 * mm),
        para(L["contact"], "h1"),
        *[para(line) for line in contact],
        CondPageBreak(30 * mm),
        para(L["complain"], "h1"),
        para(L["complain_text"].format(dt=DATATILSYNET)),
    ]


def render_notice_pdf(
    *,
    notice: dict[str, Any],
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    lang: str,
) -> bytes:
    """Render a service's public privacy notice as a PDF for data subjects, in nb or en."""
    L = _labels(lang)  # noqa: N806
    slug = notice.get("controller")
    controller = {"slug": slug, **organisations[slug]} if slug in organisations else None
    title = localised(notice.get("title"), lang)
    story: list[Flowable] = letterhead(controller, title=title, lang=lang, generated_at=generated_at)
    story += [Spacer(1, 4 * mm), para(localised(notice.get("intro"), lang)), Spacer(1, 4 * mm)]
    story += _responsible(controller, organisations, activities, lang)
    # room for the heading and the start of the first activity (whose own CondPageBreak asks for 45 mm), so
    # the heading is never left alone at the foot of a page
    story += [CondPageBreak(60 * mm), para(L["processing"], "h1")]
    for activity in activities:
        story += activity_block(activity, organisations, lang, notice_controller=slug)
    story += _processors(organisations, activities, lang)
    story += rights_block(activities, lang)
    story += _contact_and_complaint(notice, controller, lang)
    name = localised((controller or {}).get("name"), lang)
    return build_pdf(
        story, title=title, author=name, lang=lang, footer=" – ".join(v for v in (title, name) if v)
    )

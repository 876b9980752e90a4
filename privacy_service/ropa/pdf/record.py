"""The record of processing (GDPR Art. 30) as a PDF for Datatilsynet: plain data in, bytes out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer

from privacy_service.documents import (
    CONTENT_WIDTH,
    build_pdf,
    data_table,
    dpo_text,
    heading,
    key_value_table,
    letterhead,
    para,
    table_of_contents,
)
from privacy_service.ropa.pdf.labels import RECORD_LABELS
from privacy_service.ropa.texts import (
    art9_conditions_text,
    art89_text,
    automated_decision_rows,
    dpia_texts,
    legal_bases_text,
    lia_text,
    main_controller,
    not_stated_text,
    org_name,
    retention_rule_words,
    right_reason_text,
    special_categories,
    system_text,
    transfer_text,
)
from privacy_service.wording import format_datetime, localised, org_number_text, period_text, text, yes_no


def _labels(lang: str) -> dict[str, Any]:
    return RECORD_LABELS.get(lang, RECORD_LABELS["en"])


def _responsibility(a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str) -> list[tuple[str, Any]]:
    L = _labels(lang)  # noqa: N806 - reads as a label table
    controller = orgs.get(a.get("controller") or "")
    contact = ", ".join(str(v) for v in ((controller or {}).get(k) for k in ("org_number", "email")) if v)
    name = org_name(orgs, a.get("controller"), lang)
    return [
        L["s_a"],
        (L["controller"], f"{name} ({contact})" if contact else name),
        (L["joint_controllers"], [org_name(orgs, s, lang) for s in a.get("joint_controllers") or []]),
        *_joint_arrangement(a, orgs, lang),
        (L["representative"], a.get("representative")),
        (L["dpo"], dpo_text(controller)),
        (L["owner"], localised(a.get("owner"), lang) or None),
        (L["business_process"], a.get("business_process")),
    ]


def _joint_arrangement(
    a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str
) -> list[tuple[str, Any]]:
    L = _labels(lang)  # noqa: N806
    arrangement = a.get("joint_arrangement")
    if not arrangement:
        return []
    agreement = ", ".join(
        str(v) for v in (localised(arrangement.get("agreement_ref"), lang), arrangement.get("agreed_on")) if v
    )
    return [
        (L["joint_essence"], localised(arrangement.get("essence"), lang)),
        (
            L["joint_responsibilities"],
            [
                f"{org_name(orgs, r['organisation'], lang)}: {localised(r['answers_for'], lang)}"
                for r in arrangement.get("responsibilities") or []
            ]
            or L["not_stated"],
        ),
        (L["joint_contact"], org_name(orgs, arrangement.get("contact_point"), lang) or L["not_stated"]),
        (L["joint_agreement"], agreement or L["not_stated"]),
    ]


def _purposes(a: dict[str, Any], lang: str, lia: Mapping[str, Any] | None) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    return [
        L["s_b"],
        (L["purposes"], [localised(p, lang) for p in a.get("purposes") or []]),
        (L["legal_basis"], legal_bases_text(a, lang)),
        (L["national_basis"], localised(a.get("national_basis"), lang)),
        (L["art9"], art9_conditions_text(a, lang)),
        (L["art89"], art89_text(a, lang)),
        (L["art10"], yes_no(bool(a.get("art10")), lang)),
        (L["consent_purpose"], a.get("consent_purpose")),
        (L["legitimate_interest"], localised(a.get("legitimate_interest"), lang)),
        (L["lia"], lia_text(a, lia, lang)),
    ]


def _data(a: dict[str, Any], lang: str) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    categories = [
        localised(c.get("name"), lang) + (L["special_marker"] if c.get("special") else "")
        for c in a.get("data_categories") or []
    ]
    return [
        L["s_c"],
        (L["data_subjects"], [localised(s, lang) for s in a.get("data_subjects") or []]),
        (L["data_categories"], categories),
        (L["special"], yes_no(special_categories(a), lang)),
        (L["vulnerable"], yes_no(bool(a.get("vulnerable_subjects")), lang)),
        (L["children"], yes_no(bool(a.get("children")), lang)),
        (L["source"], localised(a.get("source"), lang)),
        L["s_d"],
        (L["recipients"], [localised(r, lang) for r in a.get("recipients") or []]),
        (L["transfers"], [transfer_text(t, lang) for t in a.get("transfers") or []]),
    ]


def _retention(a: dict[str, Any], lang: str) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    retention, disposal = a.get("retention") or {}, a.get("disposal") or {}
    period, keep = retention.get("period"), disposal.get("preservation_period")
    trigger = localised(retention.get("trigger"), lang) or None
    return [
        L["s_f"],
        (L["retention"], localised(retention.get("text"), lang)),
        (L["period"], period_text(period, lang) or None),  # in words: the reader never sees P30D
        (L["trigger"], trigger),
        (L["retention_basis"], localised(retention.get("legal_basis"), lang) or None),
        (
            L["rules"],
            "\n".join(retention_rule_words(r, trigger, lang) for r in retention.get("rules") or []) or None,
        ),
        (L["decision"], disposal.get("decision")),
        (L["preservation"], period_text(keep, lang) or None),
        (L["authority"], localised(disposal.get("authority"), lang) or None),
    ]


def _security_and_risk(
    a: dict[str, Any], lang: str, assessment: Mapping[str, Any] | None
) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    dpia = dpia_texts(a, assessment, lang)
    systems = [system_text(s, lang) for s in a.get("systems") or []]
    return [
        L["s_g"],
        (L["security"], [localised(m, lang) for m in a.get("security_measures") or []]),
        (L["systems"], systems),
        L["s_r"],
        (L["dpia_required"], dpia["required"]),
        (L["dpia_status"], dpia["status"]),
        (L["dpia_reference"], dpia["reference"]),
        (L["dpia_outcome"], dpia["outcome"]),
        (L["prior_consultation"], dpia["prior_consultation"]),
        (L["automated"], _automated(a, lang)),
        (L["review_date"], a.get("review_date")),
    ]


def _automated(a: dict[str, Any], lang: str) -> str | list[str]:
    rows = automated_decision_rows(a, lang)
    return [f"{label}: {value}" for label, value in rows] if rows else yes_no(False, lang)


def _processor_rows(a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str) -> list[list[Any]]:
    roles = _labels(lang)["roles"]
    return [
        [
            org_name(orgs, p.get("organisation"), lang),
            roles.get(p.get("role"), p.get("role")),
            localised(p.get("agreement_ref"), lang),
            localised(p.get("task"), lang),
            org_name(orgs, p.get("sub_processor_of"), lang),
        ]
        for p in a.get("processors") or []
    ]


def _rights_rows(a: dict[str, Any], lang: str) -> list[list[Any]]:
    names = _labels(lang)["right_names"]
    rows = []
    for r in a.get("rights") or []:
        reason = r.get("reason") or ""
        rows.append(
            [
                names.get(r.get("right"), r.get("right")),
                r.get("article"),
                yes_no(bool(r.get("applies")), lang),
                right_reason_text(r.get("reason_id") or reason, lang),
            ]
        )
    return rows


def _meta(a: dict[str, Any], lang: str) -> str:
    """The record's key, service, status and version, and who changed it last."""
    L = _labels(lang)  # noqa: N806
    return L["meta"].format(
        slug=a.get("slug") or "",
        service=a.get("service") or "",
        status=L["statuses"].get(a.get("status"), a.get("status") or ""),
        version=a.get("version") or "",
        at=format_datetime(a.get("updated_at"), lang) or "–",
        by=a.get("updated_by") or "–",
    )


def activity_section(
    a: dict[str, Any],
    orgs: dict[str, dict[str, Any]],
    lang: str,
    number: int,
    assessment: Mapping[str, Any] | None = None,
    lia: Mapping[str, Any] | None = None,
) -> list[Flowable]:
    """Return the flowables of one activity: every field of its record, its processors and the rights.

    `assessment` is the activity's DPIA from the register, as plain data (ropa.texts.dpia_texts); none means
    nobody assessed it; `lia` is its legitimate-interest assessment in the same way (ropa.texts.lia_text)."""
    L = _labels(lang)  # noqa: N806
    unknowns = not_stated_text(a, lang)
    rows = [
        *([(L["unknowns"], unknowns)] if unknowns else []),
        *_responsibility(a, orgs, lang),
        *_purposes(a, lang, lia),
        *_data(a, lang),
        *_retention(a, lang),
        *_security_and_risk(a, lang, assessment),
    ]
    story: list[Flowable] = [
        heading(f"{number}. {localised(a.get('name'), lang)}", key=f"activity-{number}"),
        para(_meta(a, lang), "muted"),
        Spacer(1, 2 * mm),
        para(localised(a.get("description"), lang)),
        Spacer(1, 3 * mm),
        key_value_table(rows),
        para(L["processors"], "h2"),
    ]
    processor_rows = _processor_rows(a, orgs, lang)
    widths = [w * CONTENT_WIDTH for w in (0.22, 0.14, 0.24, 0.24, 0.16)]
    story.append(
        data_table(L["p_cols"], processor_rows, widths=widths) if processor_rows else para(L["no_processors"])
    )
    if a.get("rights"):
        widths = [w * CONTENT_WIDTH for w in (0.22, 0.12, 0.1, 0.56)]
        story += [para(L["rights"], "h2"), data_table(L["r_cols"], _rights_rows(a, lang), widths=widths)]
    return story


def processors_overview(
    orgs: dict[str, dict[str, Any]], activities: list[dict[str, Any]], lang: str
) -> list[Flowable]:
    """Return the table of every processor and sub-processor with its agreements and activities."""
    L = _labels(lang)  # noqa: N806
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    for a in activities:
        for p in a.get("processors") or []:
            entry = found.setdefault(
                (p.get("organisation") or "", p.get("role") or ""), {"refs": [], "acts": []}
            )
            ref = localised(p.get("agreement_ref"), lang)
            if ref and ref not in entry["refs"]:
                entry["refs"].append(ref)
            entry["acts"].append(localised(a.get("name"), lang))
    rows = [
        [
            org_name(orgs, slug, lang),
            org_number_text(orgs.get(slug), lang),
            L["roles"].get(role, role),
            entry["refs"],
            entry["acts"],
        ]
        for (slug, role), entry in sorted(found.items(), key=lambda item: org_name(orgs, item[0][0], lang))
    ]
    widths = [w * CONTENT_WIDTH for w in (0.22, 0.12, 0.14, 0.24, 0.28)]
    table = data_table(L["all_cols"], rows, widths=widths) if rows else para(L["no_processors"])
    return [PageBreak(), heading(L["all_processors"], key="processors"), table]


def by_controller(
    activities: list[dict[str, Any]], keeper: str | None
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The activities grouped by the body that is controller: the keeper's own first (with those it controls
    jointly), then each other controller by organisation key, every group in the order given."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in activities:
        ours = keeper is not None and keeper in (a.get("joint_controllers") or [])
        groups.setdefault(keeper if ours else a.get("controller") or "", []).append(a)
    return sorted(groups.items(), key=lambda item: (item[0] != keeper, item[0]))


def render_ropa_pdf(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    controller: str | None = None,
    generated_at: datetime,
    lang: str = "en",
    dpias: Mapping[str, Mapping[str, Any]] | None = None,
    lias: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes:
    """Render the record of processing as a PDF: cover, contents, a section per activity, processors.

    `dpias` are the DPIA register's assessments by activity slug, passed in by the caller (ropa never reads
    the register); an activity without one prints "not assessed", never "no". `lias` are the legitimate-
    interest assessments, passed in the same way; an activity relying on Art. 6(1)(f) without one says
    "not done"."""
    L = _labels(lang)  # noqa: N806
    keeper = main_controller(organisations, activities, controller)
    story: list[Flowable] = letterhead(
        keeper,
        title=L["title"],
        subtitle=L["subtitle"],
        lang=lang,
        generated_at=generated_at,
        extra_rows=[(L["count"], str(len(activities)))],
    )
    story += [PageBreak(), para(text("contents", lang), "h1"), table_of_contents()]
    if not activities:
        story.append(para(L["empty"]))
    number = 0
    groups = by_controller(activities, (keeper or {}).get("slug"))
    for index, (slug, group) in enumerate(groups):
        if len(groups) > 1:  # one record per controller: ours first, then each body that is controller
            name = org_name(organisations, slug, lang)
            own = index == 0 and slug == (keeper or {}).get("slug")
            title = (L["part_own"] if own else L["part_other"]).format(name=name)
            story += [PageBreak(), heading(title, key=f"part-{index}", level=0)]
            story.append(para(L["part_own_intro" if own else "part_other_intro"].format(name=name)))
        for activity in group:
            number += 1
            key = activity.get("slug") or ""
            assessment, lia = (dpias or {}).get(key), (lias or {}).get(key)
            story += [PageBreak(), *activity_section(activity, organisations, lang, number, assessment, lia)]
    story += processors_overview(organisations, activities, lang)
    name = localised((keeper or {}).get("name"), lang)
    return build_pdf(
        story,
        title=f"{L['title']} – {name}" if name else L["title"],
        author=name,
        lang=lang,
        footer=f"{L['title']} – {name} – {format_datetime(generated_at, lang)}",
        with_toc=True,
    )

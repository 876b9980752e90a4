"""The officer's activity edit form and how it maps onto the activity record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from privacy_service.http import lazy_code_words
from privacy_service.kernel import ART9_CONDITIONS, ART89_PURPOSES, LEGAL_BASES
from privacy_service.ropa.form_errors import error_summary, errors_to_fields  # noqa: F401 - the views' door
from privacy_service.ropa.form_fields import PeriodField, a_period, checkboxes, date_field
from privacy_service.ropa.form_record import (  # noqa: F401 - the views' door
    FIELD_PATHS,
    NEW_ACTIVITY,
    apply_form,
    form_values,
)
from privacy_service.ropa.form_rows import LISTS, SPECS, organisation_picker, row_is_blank
from privacy_service.ropa.records import ActivityFilter
from privacy_service.ropa.rules import KANTARA_PURPOSE_CATEGORIES, STATUSES
from privacy_service.ropa.schemas import NOT_STATED_FIELDS
from privacy_service.ropa.texts import (
    art9_text,
    art89_name,
    legal_basis_text,
    not_stated_name,
    purpose_category_name,
)
from privacy_service.wording import localised

ACTIVITY_STATUSES = lazy_code_words("activity_status", STATUSES)
WITHDRAWAL_ACTIONS = {"erase": _l("Erase the person's data"), "stop": _l("Stop using the data, keep it")}
DISPOSAL_WORDS = {
    "Bevares": _l("Preserve"),
    "Kasseres": _l("Dispose of"),
    "Vurderes senere": _l("Decide later"),
}
AUTOMATED_WORDS = {
    "22(2)(a)": _l("Necessary for a contract (Art. 22(2)(a))"),
    "22(2)(b)": _l("Authorised by law (Art. 22(2)(b))"),
    "22(2)(c)": _l("Explicit consent (Art. 22(2)(c))"),
}


def _in_reader_language(words: Any, code: str) -> LazyString:
    """A choice's label, worded when the form renders, in the reader's language."""
    return LazyString(lambda: words(code, str(get_locale() or "nb")))


NB = {"lang": "nb"}  # bokmål text fields say so, as the English ones say lang=en


def _nb(label: Any, size: int = 5000, area: bool = False) -> Field:
    kind = TextAreaField if area else StringField
    return kind(
        label,
        validators=[Optional(), Length(max=size)],
        render_kw={"lang": "nb", **({"rows": 3} if area else {})},  # bokmål, spoken as bokmål on any page
    )


def _en(label: Any, size: int = 5000, area: bool = False) -> Field:
    kind = TextAreaField if area else StringField
    return kind(
        label,
        validators=[Optional(), Length(max=size)],
        render_kw={"lang": "en", **({"rows": 3} if area else {})},
    )


def _rows(spec_name: str) -> FieldList:
    return FieldList(FormField(SPECS[spec_name].row), SPECS[spec_name].title)


def _choose(words: Mapping[str, Any]) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(code, text) for code, text in words.items()]


class ActivityForm(FlaskForm):
    version = HiddenField()
    plain = HiddenField()  # the texts an older record gave as one plain text, not in two languages
    name_nb = StringField(_l("Name (Norwegian)"), validators=[Length(max=300)], render_kw=NB)
    name_en = StringField(_l("Name (English)"), validators=[Length(max=300)], render_kw={"lang": "en"})
    description_nb = TextAreaField(_l("Description (Norwegian)"), validators=[Length(max=5000)], render_kw=NB)
    description_en = TextAreaField(
        _l("Description (English)"), validators=[Length(max=5000)], render_kw={"lang": "en"}
    )
    status = SelectField(_l("Status"), choices=[SelectChoice(s, ACTIVITY_STATUSES[s]) for s in STATUSES])
    owner_nb = _nb(_l("Owner (Norwegian)"), 1000)
    owner_en = _en(_l("Owner (English)"), 1000)
    business_process = StringField(_l("Business process"), validators=[Optional(), Length(max=300)])
    review_date = date_field(_l("Review date"))

    controller = organisation_picker(_l("Controller"))
    representative = StringField(
        _l("Representative in the EU (Art. 27)"), validators=[Optional(), Length(max=300)]
    )
    joint_controllers = _rows("joint_controllers")
    arrangement_essence_nb = _nb(_l("The essence of the arrangement (Norwegian)"), area=True)
    arrangement_essence_en = _en(_l("The essence of the arrangement (English)"), area=True)
    arrangement_contact = organisation_picker(_l("Contact point for the data subjects"))
    arrangement_ref_nb = _nb(_l("Arrangement (reference, Norwegian)"), 500)
    arrangement_ref_en = _en(_l("Arrangement (reference, English)"), 500)
    arrangement_agreed_on = date_field(_l("Arrangement agreed on"))
    responsibilities = _rows("responsibilities")
    processors = _rows("processors")

    purposes = _rows("purposes")
    legal_basis = SelectField(
        _l("Legal basis (Art. 6(1))"),
        choices=[SelectChoice(k, _in_reader_language(legal_basis_text, k)) for k in LEGAL_BASES],
    )
    other_legal_bases = checkboxes(
        _l("Further legal bases"),
        [SelectChoice(k, _in_reader_language(legal_basis_text, k)) for k in LEGAL_BASES],
    )
    national_basis_nb = _nb(_l("National legal basis (Norwegian)"))
    national_basis_en = _en(_l("National legal basis (English)"))
    legitimate_interest_nb = _nb(_l("Legitimate interest (Norwegian)"), area=True)
    legitimate_interest_en = _en(_l("Legitimate interest (English)"), area=True)
    lia_reference_nb = _nb(_l("Balancing test (reference, Norwegian)"), 1000)
    lia_reference_en = _en(_l("Balancing test (reference, English)"), 1000)
    consent_purpose = StringField(_l("Consent purpose"), validators=[Optional(), Length(max=64)])
    on_withdrawal = SelectField(_l("When consent is withdrawn"), choices=_choose(WITHDRAWAL_ACTIONS))
    art9_condition = SelectField(
        _l("Art. 9(2) condition"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(k, _in_reader_language(art9_text, k)) for k in ART9_CONDITIONS],
    )
    other_art9_conditions = checkboxes(
        _l("Further Art. 9(2) conditions"),
        [SelectChoice(k, _in_reader_language(art9_text, k)) for k in ART9_CONDITIONS],
    )
    art10 = BooleanField(_l("Personal data about criminal convictions and offences (Art. 10)"))
    art89_purposes = checkboxes(
        _l("Serves only archiving, research or statistics (Art. 89)"),
        [SelectChoice(k, _in_reader_language(art89_name, k)) for k in ART89_PURPOSES],
    )

    purpose_categories = checkboxes(
        _l("Kinds of purpose on consent receipts (Kantara Consent Receipt)"),
        [SelectChoice(k, _in_reader_language(purpose_category_name, k)) for k in KANTARA_PURPOSE_CATEGORIES],
    )

    data_subjects = _rows("data_subjects")
    vulnerable_subjects = BooleanField(_l("Vulnerable data subjects"))
    children = BooleanField(_l("Children"))
    data_categories = _rows("data_categories")
    source_nb = _nb(_l("Where the data come from (Norwegian)"), area=True)
    source_en = _en(_l("Where the data come from (English)"), area=True)
    recipients = _rows("recipients")
    third_parties = _rows("third_parties")
    transfers = _rows("transfers")

    retention_text_nb = TextAreaField(
        _l("Retention (Norwegian)"), validators=[Length(max=5000)], render_kw=NB
    )
    retention_text_en = TextAreaField(
        _l("Retention (English)"), validators=[Length(max=5000)], render_kw={"lang": "en"}
    )
    retention_period = PeriodField(_l("Retention period"), validators=[Optional(), a_period])
    retention_trigger_nb = _nb(_l("The period counts from (Norwegian)"))
    retention_trigger_en = _en(_l("The period counts from (English)"))
    retention_legal_basis_nb = _nb(_l("Legal basis of the retention period (Norwegian)"), 1000)
    retention_legal_basis_en = _en(_l("Legal basis of the retention period (English)"), 1000)
    disposal_decision = SelectField(_l("Disposal decision (Noark 5)"), choices=_choose(DISPOSAL_WORDS))
    disposal_period = PeriodField(_l("Preservation period"), validators=[Optional(), a_period])
    disposal_authority_nb = _nb(_l("Disposal authority (Norwegian)"), 1000)
    disposal_authority_en = _en(_l("Disposal authority (English)"), 1000)
    retention_rules = _rows("retention_rules")
    security_measures = _rows("security_measures")
    systems = _rows("systems")

    dpia_required = BooleanField(_l("DPIA required"))
    dpia_reference = StringField(_l("DPIA reference"), validators=[Optional(), Length(max=300)])
    dpia_outcome = StringField(_l("DPIA outcome"), validators=[Optional(), Length(max=1000)])
    dpia_prior_consultation = BooleanField(
        _l("Prior consultation with the Data Protection Authority (Art. 36)")
    )
    automated_decisions = BooleanField(_l("Automated decisions or profiling (Art. 22)"))
    automated_ground = SelectField(_l("Ground for the automated decision"), choices=_choose(AUTOMATED_WORDS))
    automated_authority_nb = _nb(_l("The law that authorises it (Norwegian)"))
    automated_authority_en = _en(_l("The law that authorises it (English)"))
    automated_logic_nb = _nb(_l("How it is decided (Norwegian)"), area=True)
    automated_logic_en = _en(_l("How it is decided (English)"), area=True)
    automated_significance_nb = _nb(_l("What it means for the person (Norwegian)"), area=True)
    automated_significance_en = _en(_l("What it means for the person (English)"), area=True)
    registry_act_nb = _nb(_l("The act establishing the registry (Norwegian)"))
    registry_act_en = _en(_l("The act establishing the registry (English)"))
    registry_appeal_nb = _nb(_l("Appeals are heard by (Norwegian)"))
    registry_appeal_en = _en(_l("Appeals are heard by (English)"))
    not_stated = checkboxes(
        _l("Not stated by the source"),
        [SelectChoice(k, _in_reader_language(not_stated_name, k)) for k in NOT_STATED_FIELDS],
    )

    SECTIONS: tuple[tuple[Any, str], ...] = (
        (
            _l("The activity"),
            "name_nb name_en description_nb description_en status owner_nb owner_en business_process "
            "review_date",
        ),
        (
            _l("Controller"),
            "controller representative joint_controllers arrangement_essence_nb arrangement_essence_en "
            "arrangement_contact arrangement_ref_nb arrangement_ref_en arrangement_agreed_on "
            "responsibilities",
        ),
        (_l("Processors"), "processors"),
        (
            _l("Purposes and legal basis"),
            "purposes legal_basis other_legal_bases national_basis_nb national_basis_en "
            "legitimate_interest_nb legitimate_interest_en lia_reference_nb lia_reference_en consent_purpose "
            "on_withdrawal purpose_categories "
            "art9_condition other_art9_conditions art10 art89_purposes",
        ),
        (
            _l("Data subjects and personal data"),
            "data_subjects vulnerable_subjects children data_categories source_nb source_en",
        ),
        (_l("Recipients and transfers"), "recipients third_parties transfers"),
        (
            _l("Retention"),
            "retention_text_nb retention_text_en retention_period retention_trigger_nb retention_trigger_en "
            "retention_legal_basis_nb retention_legal_basis_en disposal_decision disposal_period "
            "disposal_authority_nb disposal_authority_en retention_rules",
        ),
        (_l("Security"), "security_measures systems"),
        (
            _l("Impact assessment and automated decisions"),
            "dpia_required dpia_reference dpia_outcome dpia_prior_consultation automated_decisions "
            "automated_ground automated_authority_nb automated_authority_en automated_logic_nb "
            "automated_logic_en automated_significance_nb automated_significance_en",
        ),
        (
            _l("Statutory health registry"),
            "registry_act_nb registry_act_en registry_appeal_nb registry_appeal_en not_stated",
        ),
    )
    FIRST: tuple[str, ...] = ()

    def sections(self) -> list[tuple[Any, list[Any]]]:
        """The fields to render, section by section; the identifying ones first."""
        first = [(_l("Identity"), [self[name] for name in self.FIRST])] if self.FIRST else []
        return first + [(title, [self[name] for name in names.split()]) for title, names in self.SECTIONS]

    def offer_organisations(self, organisations: Mapping[str, Mapping[str, Any]], lang: str) -> None:
        """Fill every organisation picker with the registry's organisations by name."""
        named = sorted(((localised(o.get("name"), lang) or slug, slug) for slug, o in organisations.items()))
        base = [SelectChoice("", "—")] + [SelectChoice(slug, name) for name, slug in named]
        for picker in self._organisation_pickers():
            unknown = (
                []
                if not picker.data or picker.data in organisations
                else [SelectChoice(picker.data, picker.data)]
            )
            picker.choices = base + unknown

    def _organisation_pickers(self) -> list[Any]:
        pickers = [self.controller, self.arrangement_contact]
        for spec in LISTS:
            for entry in self[spec.name]:
                pickers += [f for f in entry.form if f.short_name in ("organisation", "sub_processor_of")]
        return pickers

    def add_blank_rows(self, add: str | None = None) -> None:
        """One blank row after each list's last; one more in the list whose "Add row" was pressed."""
        for spec in LISTS:
            rows = self[spec.name]
            count = len(rows.entries)
            if not rows.entries or not row_is_blank(spec, rows.entries[-1].data):
                rows.append_entry()
            if add == spec.name and len(rows.entries) == count:
                rows.append_entry()


class NewActivityForm(ActivityForm):
    FIRST = ("slug", "service")
    slug = StringField(_l("Short name in addresses (a-z, 0-9 and '-')"), validators=[Length(min=1, max=64)])
    service = SelectField(_l("Service"), choices=[])


def activity_filter(args: Mapping[str, str]) -> ActivityFilter:
    """Read the activity list's filters from the query string; a value the list does not know is ignored."""
    legal_basis, status = args.get("legal_basis"), args.get("status")
    return ActivityFilter(
        service=args.get("service") or None,
        controller=args.get("controller") or None,
        legal_basis=legal_basis if legal_basis in LEGAL_BASES else None,
        special_categories={"yes": True, "no": False}.get(args.get("special", "")),
        status=status if status in STATUSES else None,
        q=(args.get("q") or "")[:200] or None,
    )

"""Which W3C DPV 2.3 term stands for what the registry records: data categories (pd:), storage places
and third countries (loc:), transfer tools (eu-gdpr: Chapter V), purposes (dpv:), the supervisory authority
(legal-no:), and the exceptions that take a right away from an activity. jsonld.py builds the record's graph
with them; every term here is in DPV 2.3 (tests/fixtures/dpv-2.3-terms.txt lists them, and the export test
checks it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from privacy_service.kernel import record_bases

# The service's own terms: one IRI on every installation, described in docs/vocabulary.md.
PS = "https://w3id.org/privacy-service/ns#"

# A storage place or third country as the registry gives it: an ISO 3166-1 alpha-2 code, or EU / EEA.
LOCATION_RE = re.compile(r"^(?:[A-Z]{2}|EU|EEA)$")
# The EEA's members (the 27 of the EU, Iceland, Liechtenstein, Norway): no third countries under Chapter V.
EEA_CODES = frozenset((
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
))  # fmt: skip

# The Chapter V tool of the record's safeguard (ropa.rules.SAFEGUARDS); a derogation's point of Art. 49(1) is
# the transfer assessment's (registers), "none" is no tool at all (Art. 44).
TRANSFER_TOOLS = {"adequacy": "eu-gdpr:A45-3", "scc": "eu-gdpr:A46-2-c", "bcr": "eu-gdpr:A46-2-b"}
DEROGATION_POINTS = ("a", "b", "c", "d", "e", "f", "g")

# Supervisory authorities DPV's legal extensions name, by organisation number.
AUTHORITIES = {"974761467": "legal-no:DPA-NO"}  # Datatilsynet (DPV legal-no, "Data Protection Authority")

# Data category key (the code data maps use) -> the pd: concept it is an instance of, where one fits.
CATEGORY_TERMS = {
    "account_number": "FinancialAccountNumber",
    "address": "PhysicalAddress",
    "affiliation": "CurrentEmployment",
    "answers": "Opinion",
    "background": "Demographic",
    "birth_year": "BirthDate",
    "body_measures": "PhysicalCharacteristic",
    "call_times": "CallLog",
    "chat_messages": "Communication",
    "citizenship": "Citizenship",
    "complaint": "Communication",
    "contact_details": "Contact",
    "cookie_data": "Tracking",
    "criminal_records": "Criminal",  # Art. 10
    "cv": "ProfessionalExperience",
    "demographic": "Demographic",
    "diagnosis": "MedicalHealth",
    "education": "EducationQualification",
    "email": "EmailAddress",
    "employment": "CurrentEmployment",
    "enquiry": "Communication",
    "family_relations": "Family",
    "feedback": "Opinion",
    "fitness": "PhysicalHealth",
    "gp_contact": "Contact",
    "health_care": "Health",
    "health_data": "Health",
    "health_service": "Health",
    "identity_check": "AuthenticationHistory",
    "injuries": "Health",
    "ip_address": "IPAddress",
    "krr_contact": "Contact",
    "location": "Location",
    "login_code": "UID",
    "login_method": "AuthenticationHistory",
    "medical": "MedicalHealth",
    "medical_record": "HealthRecord",
    "medicine": "Prescription",
    "membership_and_employment": "EmploymentHistory",
    "message": "Communication",
    "minimum_pension_status": "FinancialStatus",
    "mobile_number": "TelephoneNumber",
    "name": "Name",
    "national_id": "OfficialID",
    "nationality": "Nationality",
    "objection": "PrivacyPreference",
    "pain": "PhysicalHealth",
    "passport": "Passport",
    "patient_contact": "Contact",
    "phone": "TelephoneNumber",
    "postal_address": "PhysicalAddress",
    "prescribing_rights": "ProfessionalCertification",
    "public_profile": "PubliclyAvailableSocialMedia",
    "questionnaire_answers": "Health",
    "restrictions": "DisciplinaryAction",
    "role": "Job",
    "social": "Social",
    "specialist_training": "ProfessionalTraining",
    "status": "PrivacyPreference",
    "tax_information": "Tax",
    "topics": "Interest",
    "usage": "BrowsingBehaviour",
    "violations": "CriminalOffence",  # Art. 10
    "work_type": "Job",
    "workplace": "WorkLocation",
}
CRIMINAL_TERMS = frozenset(
    {"Criminal", "CriminalCharge", "CriminalConviction", "CriminalOffence", "CriminalPardon"}
)

# The purposes of DPV 2.3 (its purposes module): what a record's `dpv_purposes` may name.
_PURPOSE_NAMES = """
    AcademicResearch AccountManagement Advertising AgeVerification CombatClimateChange CommercialPurpose
    CommercialResearch CommunicationForCustomerCare CommunicationManagement CounterMoneyLaundering
    Counterterrorism CustomerCare CustomerClaimsManagement CustomerManagement CustomerOrderManagement
    CustomerRelationshipManagement CustomerSolvencyMonitoring DataAltruism DeliveryOfGoods DirectMarketing
    DisputeManagement EnforceAccessControl EnforceSecurity EstablishContractualAgreement
    FraudPreventionAndDetection FulfilmentOfContractualObligation FulfilmentOfObligation
    HumanResourceManagement IdentityAuthentication IdentityVerification ImproveExistingProductsAndServices
    ImproveHealthcare ImproveInternalCRMProcesses ImprovePublicServices ImproveTransportMobility
    IncreaseServiceRobustness InternalResourceOptimisation LegalCompliance MaintainFraudDatabase Marketing
    MemberPartnerManagement MisusePreventionAndDetection NonCommercialPurpose NonCommercialResearch
    OptimisationForConsumer OptimisationForController OptimiseUserInterface OrganisationComplianceManagement
    OrganisationGovernance OrganisationRiskManagement PaymentManagement Personalisation
    PersonalisedAdvertising PersonalisedBenefits PersonnelBehaviourMonitoring PersonnelHiring
    PersonnelManagement PersonnelMonitoring PersonnelOffboarding PersonnelOnboarding PersonnelPayment
    PersonnelPerformanceEvaluation PersonnelPerformanceManagement PersonnelPerformanceMonitoring
    PersonnelPerformancePrediction PersonnelPromotionManagement PersonnelTerminationManagement
    PersonnelWorkloadManagement PoliticalCampaign ProtectionOfIPR ProtectionOfNationalSecurity
    ProtectionOfPublicSecurity ProvideEventRecommendations ProvideOfficialStatistics
    ProvidePersonalisedRecommendations ProvideProductRecommendations PublicBenefit PublicPolicyMaking
    PublicRelations Purpose RecordManagement RecruitmentAdvertising RecruitmentApplicantBackgroundCheck
    RecruitmentApplicantCriminalBackgroundCheck RecruitmentApplicantInformationAuthentication
    RecruitmentApplicantSelection RecruitmentApplicationAnalysis RecruitmentApplicationManagement
    RecruitmentApplicationScreening RecruitmentInterviewAnalysis RecruitmentInterviewAssessment
    RecruitmentInterviewManagement RecruitmentInterviewScheduling RecruitmentManagement
    RecruitmentTargetedAdvertising RepairImpairments RequestedServiceProvision ResearchAndDevelopment
    RightsFulfilment ScientificResearch SearchFunctionalities SellDataToThirdParties SellInsightsFromData
    SellProducts SellProductsToDataSubject ServiceAccessDetermination ServiceManagement ServiceMonitoring
    ServiceOptimisation ServicePersonalisation ServiceProvision ServiceRegistration ServiceUsageAnalytics
    SocialMediaMarketing TargetedAdvertising TechnicalServiceProvision UserInterfacePersonalisation
    VendorManagement VendorPayment VendorRecordsManagement VendorSelectionAssessment Verification
"""
DPV_PURPOSES = frozenset(_PURPOSE_NAMES.split())

ROLE_TYPES = {
    "controller": "dpv:DataController",
    "joint_controller": "dpv:DataController",
    "processor": "dpv:DataProcessor",
    "sub_processor": "dpv:DataSubProcessor",
    "supervisory_authority": "dpv:DataProtectionAuthority",
}
RIGHT_TERMS = {
    "access": "eu-gdpr:A15",
    "rectification": "eu-gdpr:A16",
    "erasure": "eu-gdpr:A17",
    "restriction": "eu-gdpr:A18",
    "portability": "eu-gdpr:A20",
    "objection": "eu-gdpr:A21",
    "consent_withdrawal": "eu-gdpr:A7-3",
}
# Art. 22(3): where the decision rests on a contract or consent (22(2)(a), (c)) the person may obtain human
# intervention, express a point of view and contest the decision.
A22_3 = ("eu-gdpr:A22-3-a", "eu-gdpr:A22-3-b", "eu-gdpr:A22-3-c")


def article_term(code: str | None) -> str | None:
    """Map "6(1)(e)" to "eu-gdpr:A6-1-e" and "9(2)(h)" to "eu-gdpr:A9-2-h"; None for anything else."""
    if not code:
        return None
    parts = code.replace("(", " ").replace(")", " ").split()
    if len(parts) != 3 or parts[0] not in ("6", "9"):
        return None
    return f"eu-gdpr:A{parts[0]}-{parts[1]}-{parts[2]}"


def location_term(code: str | None) -> str | None:
    """Map "NO" to "loc:NO", "EU" to "loc:EU"; None for no code."""
    return f"loc:{code}" if code and LOCATION_RE.match(code) else None


def transfer_basis(safeguard: str | None, point: str | None) -> str | None:
    """The eu-gdpr concept a transfer rests on: its Chapter V tool, or its point of Art. 49(1)."""
    if safeguard == "derogation":
        return f"eu-gdpr:A49-1-{point}" if point in DEROGATION_POINTS else None
    return TRANSFER_TOOLS.get(safeguard or "")


def erasure_exception(record: Mapping[str, Any]) -> str | None:
    """The article that takes erasure away from the whole activity, or None (as dsar.rules.decide refuses it):
    archive-worthy records (Noark 5 Bevares) are kept for the archive, Art. 17(3)(d); a legal obligation to
    keep them, Art. 17(3)(b)."""
    if (record.get("disposal") or {}).get("decision") == "Bevares":
        return "Art. 17(3)(d)"
    if "6(1)(c)" in record_bases(record)[0]:
        return "Art. 17(3)(b)"
    return None


def right_terms(record: Mapping[str, Any]) -> list[str]:
    """The eu-gdpr rights of an activity: those its bases give, A22 where decisions are automated, A77 always,
    and no A17 where erasure is excluded."""
    excluded = {"erasure"} if erasure_exception(record) else set()
    terms = [
        RIGHT_TERMS[r["right"]]
        for r in record.get("rights") or []
        if r.get("applies") and r.get("right") in RIGHT_TERMS and r["right"] not in excluded
    ]
    if record.get("automated_decisions"):
        terms.append("eu-gdpr:A22")
        ground = (record.get("automated_decision") or {}).get("ground")
        if ground in ("22(2)(a)", "22(2)(c)"):
            terms.extend(A22_3)
    terms.append("eu-gdpr:A77")  # the right to lodge a complaint with a supervisory authority holds always
    return terms

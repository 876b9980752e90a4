"""The e-mails a request sends to its subject, in bokmål and English. They carry the reference and links,
never the subject's data (a mail may be read by others on the way)."""

from __future__ import annotations

from datetime import date

_COMPLAIN = {
    "nb": "Du kan klage til Datatilsynet, Postboks 458 Sentrum, 0105 Oslo, postkasse@datatilsynet.no, "
    "www.datatilsynet.no.",
    "en": "You may complain to the Norwegian Data Protection Authority (Datatilsynet), Postboks 458 Sentrum, "
    "0105 Oslo, Norway, postkasse@datatilsynet.no, www.datatilsynet.no.",
}

GROUNDS = {
    "nb": {
        "manifestly_unfounded": "Henvendelsen er åpenbart grunnløs (personvernforordningen art. 12 nr. 5).",
        "excessive": "Henvendelsen er urimelig, særlig fordi den gjentas "
        "(personvernforordningen art. 12 nr. 5).",
        "identity_not_established": "Vi har ikke kunnet bekrefte hvem du er "
        "(personvernforordningen art. 12 nr. 6).",
    },
    "en": {
        "manifestly_unfounded": "The request is manifestly unfounded (GDPR Art. 12(5)).",
        "excessive": "The request is excessive, in particular because it is repeated (GDPR Art. 12(5)).",
        "identity_not_established": "We could not establish your identity (GDPR Art. 12(6)).",
    },
}


def _lang(lang: str) -> str:
    return lang if lang in ("nb", "en") else "nb"


def verification_mail(
    lang: str, *, reference: str, link: str, code: str, hours: int, find_url: str
) -> tuple[str, str]:
    """Ask the subject to confirm the address: a link, or a code to type on the status page. It says what
    confirming does: the answer will come to this address."""
    if _lang(lang) == "nb":
        return (
            f"Bekreft henvendelsen din ({reference})",
            f"Vi har mottatt en henvendelse om personopplysninger med referanse {reference}.\n\n"
            f"Bekreft at det var du som sendte den ved å åpne lenken og trykke på knappen:\n{link}\n\n"
            f"Eller skriv inn denne koden på statussiden: {code}\n\n"
            "Når du bekrefter, søker vi etter opplysninger om deg knyttet til denne e-postadressen, og "
            "svaret sendes hit.\n\n"
            f"Lenken og koden kan brukes én gang og virker i {hours} timer. Fristen for å svare deg "
            "løper fra du har bekreftet. Sendte du ikke henvendelsen, skal du ikke bekrefte: se bort fra "
            "denne e-posten.\n\n"
            f"Når du har bekreftet, kan du alltid få en ny lenke til henvendelsen her: {find_url}\n",
        )
    return (
        f"Confirm your request ({reference})",
        f"We have received a request about personal data with reference {reference}.\n\n"
        f"Confirm that you sent it by opening the link and pressing the button:\n{link}\n\n"
        f"Or enter this code on the status page: {code}\n\n"
        "When you confirm, we search for data about you linked to this e-mail address, and the answer is "
        "sent to this address.\n\n"
        f"The link and the code work once, for {hours} hours. Our deadline to answer runs from your "
        "confirmation. If you did not send the request, do not confirm it: ignore this e-mail.\n\n"
        f"Once you have confirmed, you can always get a new link to the request here: {find_url}\n",
    )


def footer(lang: str, *, reference: str, link: str) -> str:
    """The last lines of every later mail about a request: its reference and where to follow it."""
    if _lang(lang) == "nb":
        return f"\nReferanse: {reference}\nSe status for henvendelsen: {link}\n"
    return f"\nReference: {reference}\nSee the status of your request: {link}\n"


def find_mail(lang: str, *, reference: str, link: str, days: int) -> tuple[str, str]:
    """A fresh link to a request's status page, asked for on the "find my request" page."""
    if _lang(lang) == "nb":
        return (
            f"Lenke til henvendelsen din ({reference})",
            f"Noen ba om en ny lenke til henvendelsen {reference}. Her er den:\n{link}\n\n"
            f"Lenken virker i {days} dager. Ba du ikke om den, kan du se bort fra denne e-posten.\n",
        )
    return (
        f"Link to your request ({reference})",
        f"Someone asked for a new link to the request {reference}. Here it is:\n{link}\n\n"
        f"The link works for {days} days. If you did not ask for it, ignore this e-mail.\n",
    )


def extension_mail(lang: str, *, reference: str, due_on: date, reason: str) -> tuple[str, str]:
    """Tell the subject the deadline is extended, and why (Art. 12(3))."""
    if _lang(lang) == "nb":
        return (
            f"Vi trenger mer tid ({reference})",
            f"Vi trenger mer tid for å behandle henvendelsen din {reference}. Ny frist er "
            f"{due_on.strftime('%d.%m.%Y')}.\n\nBegrunnelse: {reason}\n\n"
            f"Fristen er forlenget etter personvernforordningen art. 12 nr. 3. {_COMPLAIN['nb']}\n",
        )
    return (
        f"We need more time ({reference})",
        f"We need more time to handle your request {reference}. The new deadline is {due_on.isoformat()}.\n\n"
        f"Reason: {reason}\n\nThe deadline is extended under GDPR Art. 12(3). {_COMPLAIN['en']}\n",
    )


def rejection_mail(lang: str, *, reference: str, ground: str, reason: str) -> tuple[str, str]:
    """Tell the subject we will not act, why, and where to complain (Art. 12(4))."""
    lang = _lang(lang)
    if lang == "nb":
        return (
            f"Svar på henvendelsen din ({reference})",
            f"Vi kan ikke imøtekomme henvendelsen din {reference}.\n\n{GROUNDS['nb'][ground]}\n"
            f"Begrunnelse: {reason}\n\n{_COMPLAIN['nb']} Du kan også bringe saken inn for domstolene.\n",
        )
    return (
        f"About your request ({reference})",
        f"We cannot act on your request {reference}.\n\n{GROUNDS['en'][ground]}\nReasons: {reason}\n\n"
        f"{_COMPLAIN['en']} You may also take the matter to the courts.\n",
    )


def unverified_reason(lang: str, *, days: int) -> str:
    if _lang(lang) == "nb":
        return (
            f"Henvendelsen ble ikke bekreftet innen {days} dager og er derfor avsluttet. "
            "Du kan sende en ny henvendelse når som helst."
        )
    return (
        f"The request was not confirmed within {days} days and has been closed. "
        "You may send a new one at any time."
    )


def reminder_mail(items: list[tuple[str, str, date, str]], *, today: date) -> tuple[str, str]:
    """The privacy team's digest: references, types and deadlines only (English: an internal mail)."""
    overdue = [i for i in items if i[3] == "overdue"]
    lines = [f"{ref}  {kind:<18}  due {due.isoformat()}  {'OVERDUE' if stage == 'overdue' else ''}".rstrip()
             for ref, kind, due, stage in sorted(items, key=lambda i: i[2])]  # fmt: skip
    subject = f"Data-subject requests: {len(overdue)} overdue, {len(items) - len(overdue)} due soon"
    return subject, (
        f"As of {today.isoformat()}, these requests need an answer:\n\n" + "\n".join(lines) + "\n\n"
        "Open them in the officer pages under /officer/requests/.\n"
    )


def answered_mail(lang: str, *, reference: str, link: str, days: int) -> tuple[str, str]:
    """The answer is ready: no data in the mail, only the link to it (for this address alone), and how long
    the answer is kept for download (`days`)."""
    if _lang(lang) == "nb":
        return (
            f"Svar på henvendelsen din ({reference})",
            f"Henvendelsen din {reference} er besvart. Du kan lese og laste ned svaret her:\n{link}\n\n"
            f"Lenken er bare til deg: ikke del den med andre. Svaret kan lastes ned i {days} dager.\n\n"
            f"{_COMPLAIN['nb']}\n",
        )
    return (
        f"Your request has been answered ({reference})",
        f"Your request {reference} has been answered. You can read and download the answer here:\n{link}\n\n"
        f"The link is for you alone: do not share it. The answer can be downloaded for {days} days.\n\n"
        f"{_COMPLAIN['en']}\n",
    )


def restriction_lift_mail(lang: str, *, reference: str, activities: list[str]) -> tuple[str, str]:
    """Tell the subject, before it happens, that a restriction she asked for will be lifted (Art. 18(3));
    `activities` are the activities' names in her language."""
    names = "\n".join(f"- {name}" for name in activities)
    if _lang(lang) == "nb":
        return (
            f"Begrensningen av behandlingen oppheves ({reference})",
            f"Du ba oss begrense behandlingen av personopplysningene dine (henvendelse {reference}). "
            f"Vi varsler deg om at begrensningen vil bli opphevet for:\n{names}\n\n"
            "Når begrensningen er opphevet, kan vi igjen behandle opplysningene på vanlig måte. "
            "Vi sender dette varselet før begrensningen oppheves, "
            "slik personvernforordningen art. 18 nr. 3 krever.\n\n"
            "Mener du at begrensningen fortsatt bør gjelde, kan du svare oss på denne henvendelsen. "
            f"{_COMPLAIN['nb']}\n",
        )
    return (
        f"The restriction of processing will be lifted ({reference})",
        f"You asked us to restrict the processing of your personal data (request {reference}). "
        f"We are telling you that the restriction will be lifted for:\n{names}\n\n"
        "Once the restriction is lifted, we may process the data as usual again. We send this notice before "
        "the restriction is lifted, as GDPR Art. 18(3) requires.\n\n"
        f"If you think the restriction should still apply, you can reply to us about this request. "
        f"{_COMPLAIN['en']}\n",
    )

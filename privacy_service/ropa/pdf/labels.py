"""Every word the registry's two PDFs print, in English and Norwegian bokmål: the record of processing for
Datatilsynet (Art. 30) and the public privacy notice for data subjects (Art. 13–14)."""

from __future__ import annotations

from privacy_service.catalogue import ByLanguage

# --- the record of processing ----------------------------------------------------------------------------

RECORD_LABELS = ByLanguage("record")

# --- the public privacy notice ---------------------------------------------------------------------------

DATATILSYNET = "Datatilsynet, www.datatilsynet.no, Postboks 458 Sentrum, 0105 Oslo"

NOTICE_LABELS = ByLanguage("notice")

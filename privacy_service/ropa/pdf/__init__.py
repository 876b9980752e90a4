"""The registry's PDFs, plain data in and bytes out: the record of processing for Datatilsynet (record.py) and
each service's public privacy notice for data subjects (notice.py); the words both print are in labels.py."""

from privacy_service.ropa.pdf.notice import render_notice_pdf
from privacy_service.ropa.pdf.record import render_ropa_pdf

__all__ = ["render_notice_pdf", "render_ropa_pdf"]

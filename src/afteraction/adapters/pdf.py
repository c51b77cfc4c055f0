"""HTML → PDF with WeasyPrint. The HTML must be standalone (inline CSS and SVG); no URL is
fetched: any external resource is refused by the URL fetcher, so a report cannot make the
server reach out to the network while rendering.
"""

from __future__ import annotations

from typing import Any


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:  # noqa: ARG001
    raise ValueError(f"external resource refused while rendering a PDF: {url[:100]}")


def html_to_pdf(html: str) -> bytes:
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch, base_url=None)
    pdf: bytes = document.write_pdf()
    return pdf

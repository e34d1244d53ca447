"""Parsing of ``##`` meta-information lines and of the annotators' declared layouts.

Annotation sub-fields are read from the header's own declaration because VEP, SnpEff and
bcftools all let the user change the column order (``--fields``, plugins, ``--merged``).
"""

from __future__ import annotations

import re

_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters the VCF 4.3 specification (section 1.2) says are percent-encoded, plus '|'
# which the annotators encode inside their sub-fields.
_DECODED = {
    "3A": ":",
    "3B": ";",
    "3D": "=",
    "25": "%",
    "2C": ",",
    "0D": "\r",
    "0A": "\n",
    "09": "\t",
    "7C": "|",
}


def percent_decode(value: str) -> str:
    """Undo the VCF percent-encoding, leaving any other '%' sequence as written."""
    if "%" not in value:
        return value
    return _PERCENT.sub(lambda m: _DECODED.get(m.group(1).upper(), m.group(0)), value)


def parse_structured(body: str) -> dict[str, str] | None:
    """Parse ``<ID=x,Number=1,Description="a, \\"b\\"">`` into a dict; None if not structured."""
    body = body.strip()
    if not (body.startswith("<") and body.endswith(">")):
        return None
    out: dict[str, str] = {}
    i, n = 1, len(body) - 1
    while i < n:
        eq = body.find("=", i)
        if eq < 0 or eq > n:
            break
        key = body[i:eq].strip()
        i = eq + 1
        if i < n and body[i] == '"':
            value, i = _quoted(body, i + 1, n)
        else:
            comma = body.find(",", i, n)
            end = n if comma < 0 else comma
            value, i = body[i:end].strip(), end
        out[key] = value
        i = body.find(",", i, n)
        i = n if i < 0 else i + 1
    return out


def _quoted(body: str, i: int, n: int) -> tuple[str, int]:
    chars: list[str] = []
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            chars.append(body[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(chars), i + 1
        chars.append(c)
        i += 1
    return "".join(chars), i


def csq_layout(description: str) -> list[str] | None:
    """VEP: ``... Format: Allele|Consequence|IMPACT...`` in the CSQ description."""
    idx = description.find("Format:")
    if idx < 0:
        return None
    text = description[idx + len("Format:") :].strip().strip("'\"").strip()
    return [f.strip() for f in text.split("|")]


def ann_layout(description: str) -> list[str] | None:
    """SnpEff ANN: the quoted list after ``Functional annotations:``."""
    text = _quoted_part(description)
    if text is None or "|" not in text:
        return None
    return [f.strip() for f in text.split("|")]


def eff_layout(description: str) -> list[str] | None:
    """Old SnpEff EFF: ``Effect ( Effect_Impact | ... | Genotype_Number [ | ERRORS ] )``."""
    text = _quoted_part(description)
    if text is None or "(" not in text:
        return None
    inner = text[text.index("(") + 1 : text.rindex(")") if ")" in text else len(text)]
    inner = inner.replace("[", "").replace("]", "")
    return ["Effect"] + [f.strip() for f in inner.split("|") if f.strip()]


def bcsq_layout(description: str) -> list[str] | None:
    """bcftools csq: ``Format: '[*]consequence|gene|transcript|biotype[|strand|...]'``."""
    idx = description.find("Format:")
    if idx < 0:
        return None
    text = _quoted_part(description[idx:]) or description[idx + 7 :]
    text = text.replace("[*]", "").replace("[", "").replace("]", "")
    return [f.strip() for f in text.split("|") if f.strip()]


def _quoted_part(description: str) -> str | None:
    start = description.find("'")
    if start < 0:
        return None
    end = description.find("'", start + 1)
    return description[start + 1 : end if end > 0 else len(description)].strip()


LAYOUT_PARSERS = {"CSQ": csq_layout, "ANN": ann_layout, "EFF": eff_layout, "BCSQ": bcsq_layout}


def annotation_release(meta: dict[str, list[str]]) -> str | None:
    """Human-readable annotator versions, so imported annotations can be versioned by release."""
    parts: list[str] = []
    for line in meta.get("VEP", []):
        attrs = dict(re.findall(r'([\w.-]+)="([^"]*)"', "version=" + line))
        version = attrs.get("version", line.split()[0].strip('"')).lstrip("v")
        cache = attrs.get("cache", "").rstrip("/").rsplit("/", 1)[-1]
        details = ", ".join(
            x for x in (f"cache {cache}" if cache else "", attrs.get("assembly")) if x
        )
        parts.append(f"VEP {version}" + (f" ({details})" if details else ""))
    for line in meta.get("SnpEffVersion", []):
        version = line.strip('"').split(", by")[0]
        database = _snpeff_database(meta.get("SnpEffCmd", [""])[0])
        parts.append(f"SnpEff {version}" + (f" {database}" if database else ""))
    for key in ("bcftools_csqVersion", "bcftools/csqVersion"):
        for line in meta.get(key, []):
            command = " ".join(meta.get(key.replace("Version", "Command"), []))
            gff = re.search(r"(?:-g|--gff-annot)\s+(\S+)", command)
            parts.append(f"bcftools csq {line}" + (f" ({gff.group(1)})" if gff else ""))
    return "; ".join(parts) or None


def _snpeff_database(command: str) -> str | None:
    words = command.strip('"').split()
    args = [w for w in words[1:] if not w.startswith("-")]
    return args[0] if args else None

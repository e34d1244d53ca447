"""PED (pedigree) files: family, individual, father, mother, sex, phenotype."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PedMalformed(Exception):
    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}, line {line}: {message}" if line else f"{path}: {message}")


@dataclass(frozen=True)
class PedEntry:
    family: str
    individual: str
    father: str | None
    mother: str | None
    sex: int  # 0 unknown, 1 male, 2 female
    affected: int  # 0 unknown, 1 unaffected, 2 affected
    line: int


_SEX = {"1": 1, "2": 2, "0": 0, "other": 0, "-9": 0, "m": 1, "male": 1, "f": 2, "female": 2}
_AFFECTED = {"1": 1, "2": 2, "0": 0, "-9": 0}
_NO_PARENT = ("0", "", ".", "-9")  # written for an unknown parent by PLINK and others


def read_ped(path: str | Path) -> list[PedEntry]:
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PedMalformed(name, None, f"cannot read PED file: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = data[: exc.start].count(b"\n") + 1
        raise PedMalformed(name, where, f"byte {data[exc.start]:#04x} is not UTF-8 (save the "
                           "file as UTF-8)") from exc  # fmt: skip
    entries: list[PedEntry] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "\t" in raw:  # tab-separated: an empty first column is a column
            line = raw.strip(" \r\n")
        if "\x00" in line:
            raise PedMalformed(name, number, "a NUL byte: not a text PED file")
        entry = _parse_line(name, number, line)
        if entry.individual in seen:
            raise PedMalformed(
                name,
                number,
                f"individual {entry.individual!r} already listed on line {seen[entry.individual]}",
            )
        seen[entry.individual] = number
        entries.append(entry)
    if not entries:
        raise PedMalformed(name, None, "the PED file lists no individual")
    _check_parents(name, entries)
    _check_ancestry(name, entries)
    return entries


def _parse_line(name: str, number: int, line: str) -> PedEntry:
    cols = line.split("\t") if "\t" in line else line.split()
    if len(cols) < 6:
        raise PedMalformed(name, number, f"expected 6 columns, found {len(cols)}")
    family, individual, father, mother, sex, pheno = (c.strip() for c in cols[:6])
    if not family:
        raise PedMalformed(name, number, "the family ID is empty")
    if individual in _NO_PARENT:
        raise PedMalformed(name, number, f"the individual ID is {individual!r}, which means "
                           "nobody")  # fmt: skip
    if sex.lower() not in _SEX:
        raise PedMalformed(name, number, f"sex must be 1, 2 or 0, found {sex!r}")
    if pheno not in _AFFECTED:
        raise PedMalformed(name, number, f"phenotype must be 1, 2, 0 or -9, found {pheno!r}")
    return PedEntry(
        family=family,
        individual=individual,
        father=None if father in _NO_PARENT else father,
        mother=None if mother in _NO_PARENT else mother,
        sex=_SEX[sex.lower()],
        affected=_AFFECTED[pheno],
        line=number,
    )


def _check_parents(name: str, entries: list[PedEntry]) -> None:
    by_id = {e.individual: e for e in entries}
    roles: dict[str, tuple[str, PedEntry]] = {}  # parent -> (first role, child's entry)
    for e in entries:
        if e.father and e.father == e.mother:
            raise PedMalformed(name, e.line, f"{e.father!r} is both the father and the mother "
                               f"of {e.individual!r}")  # fmt: skip
        for role, parent in (("father", e.father), ("mother", e.mother)):
            if parent is None:
                continue
            first = roles.setdefault(parent, (role, e))
            if first[0] != role:
                raise PedMalformed(name, e.line, f"{parent!r} is the {role} of "
                                   f"{e.individual!r} but the {first[0]} of "
                                   f"{first[1].individual!r} (line {first[1].line})")  # fmt: skip
        for role, parent, sex in (("father", e.father, 1), ("mother", e.mother, 2)):
            if parent is None or parent not in by_id:
                continue
            if parent == e.individual:
                raise PedMalformed(name, e.line, f"{e.individual!r} is listed as its own {role}")
            if by_id[parent].family != e.family:
                raise PedMalformed(
                    name, e.line, f"{role} {parent!r} is in family {by_id[parent].family!r} "
                    f"(line {by_id[parent].line}), not {e.family!r}",
                )  # fmt: skip
            if by_id[parent].sex not in (0, sex):
                raise PedMalformed(
                    name,
                    e.line,
                    f"{role} {parent!r} has sex {by_id[parent].sex} on line {by_id[parent].line}",
                )


def _check_ancestry(name: str, entries: list[PedEntry]) -> None:
    """Nobody is their own ancestor (S1's father S2 whose father is S1)."""
    by_id = {e.individual: e for e in entries}
    settled: set[str] = set()
    for start in entries:
        path: list[str] = []
        todo = [(start.individual, 0)]
        while todo:
            who, depth = todo.pop()
            del path[depth:]
            if who in path:
                loop = loop_text([*path[path.index(who):], who])
                raise PedMalformed(name, by_id[who].line,
                                   f"{who!r} is their own ancestor ({loop})")  # fmt: skip
            if who in settled or who not in by_id:
                continue
            path.append(who)
            e = by_id[who]
            todo += [(p, depth + 1) for p in (e.father, e.mother) if p]
        settled.add(start.individual)


def loop_text(names: list[str], most: int = 8) -> str:
    """An ancestry loop as ``A -> B -> A``, its middle left out when long (a loop through
    thousands of generations once made an error of 60 kB)."""
    if len(names) <= most:
        return " -> ".join(names)
    head, tail = names[: most // 2], names[-(most // 2):]
    return " -> ".join([*head, f"... ({len(names) - len(head) - len(tail)} more)", *tail])

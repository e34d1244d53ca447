"""The columnar parser gives exactly the rows of the general parser (differential tests).

Every VCF of the test data, the edge-case suite and ../shared/data is parsed twice, with and
without the columnar parser, and the COPY payloads, warnings and record counts must be equal;
a synthetic file packs the odd values that must be left to the general parser next to ordinary
records, so both paths run on it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from regovar.adapters.vcf import VcfMalformed, open_vcf
from regovar.domain.import_parse import ChunkWork
from regovar.repositories.variant_store import CALL_COLUMNS, BatchEncoder

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FOLDERS = (ROOT / "tests" / "data" / "vcf", ROOT / "regovar" / "data", SHARED / "vcf-edgecases",
           SHARED / "data")  # fmt: skip
FILES = sorted(
    p
    for folder in FOLDERS
    if folder.exists()
    for p in folder.rglob("*")
    if p.name.endswith((".vcf", ".vcf.gz", ".vcf.bgz"))
)


def parse(path: Path, columnar: bool, size: int) -> tuple[list[str], list[str], object, int, int]:
    """(sorted calls lines, sorted transcript lines, warnings, records, rows taken columnar)."""
    with open_vcf(path) as reader:
        filters = "FT" in reader.header.formats
        plan = reader.columnar_plan(filters) if columnar else None
        fast = plan.build() if plan is not None else None
        work = ChunkWork(reader.chunk_parser(), BatchEncoder(7, 37, filters), plan)
        calls: list[str] = []
        transcripts: list[str] = []
        records = taken = 0
        for chunk in reader.record_chunks(size):
            if fast is not None:
                frame, _ = fast.split(chunk)
                taken += frame.height if frame is not None else 0
            result = work(chunk)
            calls += result.batch.calls.decode().splitlines()
            transcripts += result.batch.transcripts.decode().splitlines()
            records += result.records
            reader.warnings.merge(result.warnings)
        return sorted(calls), sorted(transcripts), reader.warnings.as_list(), records, taken


def readable(path: Path) -> bool:
    try:
        with open_vcf(path) as reader:
            return bool(reader.header.samples)
    except Exception:  # files the import refuses are not this test's concern
        return False


@pytest.mark.parametrize("path", [p for p in FILES if readable(p)], ids=lambda p: p.name)
def test_same_rows_with_and_without_the_columnar_parser(path: Path) -> None:
    general = parse(path, columnar=False, size=10_000)
    columnar = parse(path, columnar=True, size=10_000)
    assert columnar[:4] == general[:4]
    # chunk edges everywhere on the small files, often on the middle-sized ones
    if path.stat().st_size < 1_000_000:
        size = 3 if path.stat().st_size < 20_000 else 997
        assert parse(path, columnar=True, size=size)[:4] == general[:4]


SYNTHETIC = """##fileformat=VCFv4.2
##contig=<ID=1,length=249250621>
##contig=<ID=X,length=155270560>
##contig=<ID=MT,length=16569>
##INFO=<ID=AC,Number=A,Type=Integer,Description="c">
##INFO=<ID=AF,Number=A,Type=Float,Description="f">
##INFO=<ID=DP,Number=1,Type=Integer,Description="d">
##INFO=<ID=QD,Number=1,Type=Float,Description="q">
##INFO=<ID=DB,Number=0,Type=Flag,Description="b">
##INFO=<ID=NAME,Number=1,Type=String,Description="s">
##INFO=<ID=PAIR,Number=2,Type=Integer,Description="p">
##INFO=<ID=FL,Number=.,Type=Float,Description="l">
##INFO=<ID=TAGS,Number=.,Type=String,Description="t">
##INFO=<ID=RC,Number=R,Type=Integer,Description="r">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature|BIOTYPE|HGVSc|HGVSp|EXTRA_F">
##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="q">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="p">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	A	B	C
1	100	.	A	G	50	PASS	AC=1;AF=0.5;DP=30;DB;CSQ=G|missense_variant|MODERATE|G1|ENSG1|ENST1|protein_coding|c.1A>G|p.Leu2%3DArg|x	GT:AD:DP:GQ	0/1:10,12:22:99	0/0:20,0:20:60	./.:.:.:.
1	101	.	AT	A	1e3	LowQual;q10	AC=1;AF=1;QD=1e-5;NAME=abc	GT:AD:DP:GQ:PS	0|1:5,5:10:40:101	1|0:3,4:7:30:101	0/0:9,0:9:20:.
1	102	.	C	CTT	.	.	AC=1;AF=0.00001;DP=007;CSQ=TT|frameshift_variant&splice_region_variant||G2|||||	GT:AD:DP	0/1:4,4:8	0/0:0,0:0	0/1:.:3
1	103	.	g	t	12.5	;;	AC=1;AF=-0;DB=1;NAME=a%3Bb;PAIR=1,2;FL=1,2.50;TAGS=x,y	GT:AD:DP:GQ	0/1:1,1:2:3	0/1:1,1:2:3	0/1:1,1:2:3
1	104	.	T	C	30	PASS	AC=1;AC=2;UNDECLARED=zz	GT:DP	0/1:5	1/1:6	0/0:7
1	105	.	T	C,G	30	PASS	AC=1,1;RC=1,2,3	GT:AD	1/2:0,3,4	0/1:3,3,0	0/0:5,0,0
1	106	.	T	C	30	PASS	AC=1;RC=3,4;TAGS=a,.	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	107	.	T	C	30	PASS	AC=1;CSQ=A|missense_variant|MODERATE|G3||||||	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	108	.	T	C	30	PASS	AC=1;CSQ=C|weird_term|MODERATE|G3||||||,C|intron_variant||G4||||||	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	109	.	TAC	TGC	30	PASS	.	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	112	.	T	C	nan	PASS	AC=1	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	113	.	T	C	30	PASS	AC=1	GT:AD:DP	0/1:3,3:-1	0/1:3,3:99999999999	0/0:5,0:1.5
1	114	.	T	C	30	PASS	AC=1;CSQ=C|intron_variant|MODIFIER|G5|||||p.%25x|	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	115	.	T	C	30	PASS	AC=1	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
1	114	.	T	G	30	PASS	AC=1	GT:AD	0/1:3,3	0/1:3,3	0/0:5,0
X	200	.	A	G	30	PASS	AC=1	GT:AD	1:0,5	0/1:3,3	0:5,0
X	201	.	A	G	30	PASS	AC=1	GT:AD	.:0,5	0|1:3,3	0/0:5,0
X	201	.	A	T	30	PASS	AC=1	GT:AD	1:0,5	0/0:3,0	0/0:5,0
MT	300	.	A	G	30	PASS	AC=1	GT	1	0	.
chrMT	301	.	A	G	30	PASS	AC=1	GT	1	0	.
1	302	.	A	G	30	PASS	AC=1;QD=12.0	GT:AD:DP:GQ	0/1:10,12:22:99	0/0:20,0:20:60	0/1:1,2:3:4
1	303	.	A	G	30	PASS	DP=99999999999999999999;PAIR=1,-99999999999999999999	GT	0/1	0/0	1/1
"""  # noqa: E501


def test_odd_records_are_left_to_the_general_parser(tmp_path: Path) -> None:
    path = tmp_path / "odd.vcf"
    path.write_text(SYNTHETIC)
    general = parse(path, columnar=False, size=10_000)
    columnar = parse(path, columnar=True, size=10_000)
    assert columnar[:4] == general[:4]
    assert parse(path, columnar=True, size=2)[:4] == general[:4]
    # Both paths ran: ordinary records in columns, the others by the general parser (chrMT,
    # not declared in the header, is left to it for its warning).
    assert 7 <= columnar[4] < general[3]
    assert any(w["kind"] == "contig_not_in_header" for w in general[2])


def test_ordinary_records_are_taken_in_columns() -> None:
    """The shipped GIAB trio is nearly all ordinary records (else the columnar parser would
    silently do nothing)."""
    path = ROOT / "regovar" / "data" / "ashk-trio.vcf.gz"
    _, _, _, records, taken = parse(path, columnar=True, size=10_000)
    assert records == 9940 and taken > 0.95 * records


FATAL = [
    "1\t110\t.\tT\tC\t30\tPASS\tAC=1\tGT:AD\t0/1:3,3\t0/2:3,3\t0/0:5,0",  # allele 2 of 1 ALT
    "1\t111\t.\tT\tC\t30\tPASS\tAC=1\tGT:AD\t0/1:3,3:9\t0/1:3\t0/0:5,0",  # too many values
    "1\t112\t.\tT\tC\t30\tPASS\tAC=1\tGT:AD\t0/x:3,3\t0/1:3,3\t0/0:5,0",  # invalid GT
    "1\t11x\t.\tT\tC\t30\tPASS\tAC=1\tGT:AD\t0/1:3,3\t0/1:3,3\t0/0:5,0",  # POS
    "1\t113\t.\tT\tC\t30\tPASS\tAC=1\tGT:AD\t0/1:3,3\t0/1:3,3",  # a sample short
    # one value short in A, one too many in B: the flat count matches
    "1\t113\t.\tT\tC\t30\tPASS\tAC=1\tGT:AD:DP\t0/1:3,3\t5:0/1:3,3:6\t0/0:5,0:5",
]


@pytest.mark.parametrize("bad", FATAL)
def test_a_bad_record_fails_the_same_way(tmp_path: Path, bad: str) -> None:
    head = [x for x in SYNTHETIC.splitlines() if x.startswith("#")]
    body = [x for x in SYNTHETIC.splitlines() if not x.startswith("#")]
    path = tmp_path / "bad.vcf"
    path.write_text("\n".join([*head, *body[:5], bad, *body[5:]]) + "\n")
    messages = []
    for columnar in (False, True):
        with pytest.raises(Exception) as caught:
            parse(path, columnar=columnar, size=10_000)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and ", line 27: " in messages[0]


# Per field: ordinary values (taken in columns), then odd ones (left to the general parser).
POOLS = {
    "chrom": (["1", "X", "chr1"], ["MT", "chrM", "GL000192.1"]),
    "ref": (["A", "C", "AT", "G", "ATT"], ["g", "N", "AC"]),
    "alt": (["G", "T", "A", "C"], ["ATTT", "C,G", "*", "<DEL>", "AT", "a", "."]),
    "qual": (["50", "12.5", ".", "0", "99.999"], ["1e3", "inf", "-1", "nan"]),
    "filter": (["PASS", ".", "q10;s50"], ["", ";", "a;;b"]),
    "info": (["AC=1", "AF=0.5", "DP=30", "DB", "QD=1", "PAIR=1,2", "TAGS=a,b", "RC=3,4",
              "UNDECLARED=q", "FL=0.1,2", "AF=1e-7",
              "CSQ=G|missense_variant|MODERATE|G1|E1|T1|protein_coding|c.1A>G|p.A1%3D|e",
              "CSQ=-|frameshift_variant|HIGH|G2||||||", "CSQ=T|intron_variant||G3||||||"],
             ["AC=01", "AF=nan", "DP=.", "NAME=x%3Ay", "NAME=%25", "AC=1;AC=2", "FL=1,.",
              "CSQ=Q|intron_variant||G4||||||", "CSQ=T|a&&b||G5||||||"]),
    "gt": (["0/1", "0/0", "1/1", "./.", "0|1", "1|0"], ["1", "0", ".", "1/.", "0/1/1"]),
    "ad": (["3,4", "0,0", ".", "10,2"], ["5", "3,4,5", "2,.", ""]),
    "dp": (["7", ".", "0", "25"], ["-3", "2.5", "99999999999"]),
    "gq": (["99", ".", "40"], ["x"]),
    "ps": (["100", "."], ["-5"]),
}


def _pick(rng: random.Random, field: str) -> str:
    ordinary, odd = POOLS[field]
    return rng.choice(odd if rng.random() < 0.04 else ordinary)


def _record(rng: random.Random, pos: int) -> str:
    info = ";".join(_pick(rng, "info") for _ in range(rng.randint(0, 4))) or "."
    fmt = rng.choice(["GT:AD:DP:GQ", "GT:AD:DP:GQ:PS", "GT:DP", "GT", "AD:DP", "GT:AD:DP:GQ"])
    samples = [":".join(_pick(rng, k.lower()) for k in fmt.split(":")) for _ in range(3)]
    if rng.random() < 0.05:
        pos -= 10  # the same position as the previous record now and then
    fields = [_pick(rng, k) for k in ("chrom", "ref", "alt", "qual", "filter")]
    return "\t".join([fields[0], str(pos), ".", *fields[1:], info, fmt, *samples])


@pytest.mark.parametrize("seed", range(40))
def test_random_records_give_the_same_rows_or_the_same_error(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    head = [x for x in SYNTHETIC.splitlines() if x.startswith("#")]
    body = [_record(rng, 1000 + 10 * i) for i in range(60)]
    path = tmp_path / f"random{seed}.vcf"
    path.write_text("\n".join([*head, *body]) + "\n")
    outcomes = []
    for columnar, size in ((False, 10_000), (True, 10_000), (True, 7)):
        try:
            outcomes.append(parse(path, columnar=columnar, size=size)[:4])
        except Exception as exc:  # the same error, named the same way
            outcomes.append(("error", type(exc).__name__, str(exc)))
    assert outcomes[1] == outcomes[0] and outcomes[2] == outcomes[0]


BCSQ_HEADER = """##fileformat=VCFv4.2
##contig=<ID=1,length=249250621>
##INFO=<ID=BCSQ,Number=.,Type=String,Description="Haplotype-aware consequence annotation from BCFtools/csq. Format: {layout}">
##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	A	B
"""  # noqa: E501
BCSQ_RECORDS = {
    # bcftools' own layout; '*': downstream of a stop, here without any further field
    "Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change": [
        "BCSQ=missense|G1|ENST1|protein_coding|+|5A>5T|15C>T",
        "BCSQ=*missense|G1|ENST1|protein_coding",
        "BCSQ=*synonymous|G1|ENST1|protein_coding|+",
        "BCSQ=intron|G2|ENST2|protein_coding,*missense|G2|ENST3|lncRNA|-|1K>1N",
    ],
    # the consequence last: an entry may stop before it
    "gene|transcript|biotype|strand|consequence": [
        "BCSQ=G1|ENST1|protein_coding|+|missense",
        "BCSQ=G1|ENST1|protein_coding",
        "BCSQ=G2|ENST2",
    ],
}


@pytest.mark.parametrize("layout", list(BCSQ_RECORDS))
def test_bcsq_entries_of_any_length_give_the_same_rows(tmp_path: Path, layout: str) -> None:
    body = []
    for i in range(12):  # ordinary records around the odd ones, so both parsers run
        info = BCSQ_RECORDS[layout][i % len(BCSQ_RECORDS[layout])] if i % 3 else "."
        body.append(f"1\t{1000 + i}\t.\tA\tG\t50\tPASS\t{info}\tGT\t0/1\t0/0")
    path = tmp_path / "bcsq.vcf"
    path.write_text(BCSQ_HEADER.format(layout=layout) + "\n".join(body) + "\n")
    general = parse(path, columnar=False, size=10_000)
    columnar = parse(path, columnar=True, size=10_000)
    assert columnar[:4] == general[:4]
    assert columnar[4] == 12  # all taken in columns
    transcripts = [json.loads(line.split("\t")[-1]) for line in general[1]]
    assert all(entry["source"] == "BCSQ" for t in transcripts for entry in t)


def test_non_finite_info_numbers_are_missing_with_a_warning(tmp_path: Path) -> None:
    head = [x for x in SYNTHETIC.splitlines() if x.startswith("#")]
    body = [
        "1\t100\t.\tA\tG\t50\tPASS\tQD=inf;DP=30\tGT\t0/1\t0/0\t1/1",
        "1\t200\t.\tA\tG\t50\tPASS\tAF=nan;FL=1,1e400\tGT\t0/1\t0/0\t1/1",
        "1\t300\t.\tA\tG\t50\tPASS\tQD=2.5;FL=1,2\tGT\t0/1\t0/0\t1/1",
    ]
    path = tmp_path / "non-finite.vcf"
    path.write_text("\n".join([*head, *body]) + "\n")
    general = parse(path, columnar=False, size=10_000)
    assert parse(path, columnar=True, size=10_000)[:4] == general[:4]
    (warning,) = [w for w in general[2] if w["kind"] == "info_not_finite"]
    first = len(head) + 1
    assert warning["count"] == 2 and warning["lines"] == [first, first + 1]
    info = {int(c.split("\t")[2]): c.split("\t")[12] for c in general[0]}  # by line
    assert '"DP":30' in info[first] and "QD" not in info[first]
    assert "AF" not in info[first + 1] and '"FL":[1.0,null]' in info[first + 1]
    assert '"QD":2.5' in info[first + 2]


def test_non_finite_per_allele_info_numbers_of_a_multiallelic_record_are_warned(
    tmp_path: Path,
) -> None:
    head = [x for x in SYNTHETIC.splitlines() if x.startswith("#")]
    body = [
        "1\t100\t.\tA\tG,T\t50\tPASS\tAF=0.25,nan;DP=30\tGT\t0/1\t0/2\t1/2",
        "1\t200\t.\tA\tG,T\t50\tPASS\tAF=0.25,.;DP=30\tGT\t0/1\t0/2\t1/2",  # '.': just missing
        "1\t300\t.\tA\tG,T\t50\tPASS\tAF=1e400,0.5\tGT\t0/1\t0/2\t1/2",
    ]
    path = tmp_path / "non-finite-alt.vcf"
    path.write_text("\n".join([*head, *body]) + "\n")
    general = parse(path, columnar=False, size=10_000)
    (warning,) = [w for w in general[2] if w["kind"] == "info_not_finite"]
    first = len(head) + 1
    assert warning["count"] == 2 and warning["lines"] == [first, first + 2]
    info = {(int(c.split("\t")[2]), int(c.split("\t")[3])): c.split("\t")[12] for c in general[0]}
    assert '"AF":0.25' in info[first, 1] and "AF" not in info[first, 2]
    assert "AF" not in info[first + 2, 1] and '"AF":0.5' in info[first + 2, 2]


COORDS_HEADER = """##fileformat=VCFv4.2
##contig=<ID=1,length=5000>
##INFO=<ID=END,Number=1,Type=Integer,Description="e">
##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB
"""


def _coords(tmp_path: Path, *records: str) -> Path:
    path = tmp_path / "coords.vcf"
    plain = [f"1\t{100 + i}\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0" for i in range(6)]
    path.write_text(COORDS_HEADER + "\n".join([*plain, *records]) + "\n")
    return path


def test_coordinates_beyond_the_contig_or_off_the_header_are_kept_with_a_warning(
    tmp_path: Path,
) -> None:
    path = _coords(tmp_path, "1\t4999\t.\tACG\tA\t50\tPASS\t.\tGT\t0/1\t0/0",  # ends at 5001
                   "1\t6000\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0",
                   "2\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0",
                   "2\t200\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0")  # fmt: skip
    general = parse(path, columnar=False, size=10_000)
    assert parse(path, columnar=True, size=10_000)[:4] == general[:4]
    assert parse(path, columnar=True, size=3)[:4] == general[:4]
    assert general[3] == 10  # every record kept
    warned = {w["kind"]: w for w in general[2]}
    first = len(COORDS_HEADER.splitlines()) + 7
    assert warned["beyond_contig"]["lines"] == [first, first + 1]
    assert warned["beyond_contig"]["message"] == (  # each record's own problem
        "1:5001 is beyond the end of contig 1 (5,000 bp in the header); "
        "1:6000 is beyond the end of contig 1 (5,000 bp in the header)"
    )
    assert warned["contig_not_in_header"]["count"] == 1  # said once for contig 2
    assert warned["contig_not_in_header"]["lines"] == [first + 2]


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ("1\t3000\t.\tA\t<DEL>\t50\tPASS\tEND=10\tGT\t0/1\t0/0", "END 10 is before POS 3000"),
        ("1\t3000\t.\tA\t<DEL>\t50\tPASS\tEND=abc\tGT\t0/1\t0/0",
         "INFO END is not an integer: 'abc'"),
    ],
)  # fmt: skip
def test_an_impossible_end_refuses_the_file_naming_the_line(
    tmp_path: Path, record: str, problem: str
) -> None:
    with pytest.raises(VcfMalformed) as caught:
        parse(_coords(tmp_path, record), columnar=True, size=10_000)
    assert caught.value.line == len(COORDS_HEADER.splitlines()) + 7
    assert caught.value.message == problem


def test_a_symbolic_allele_without_end_is_warned_about(tmp_path: Path) -> None:
    path = _coords(tmp_path, "1\t3000\t.\tA\t<DEL>\t50\tPASS\t.\tGT\t0/1\t0/0")
    _, _, warnings, records, _ = parse(path, columnar=True, size=10_000)
    (warning,) = [w for w in warnings if w["kind"] == "symbolic_without_end"]
    assert records == 7 and warning["lines"] == [len(COORDS_HEADER.splitlines()) + 7]


VALUES_HEADER = """##fileformat=VCFv4.2
##contig=<ID=1,length=1000000>
##INFO=<ID=DP,Number=1,Type=Integer,Description="d">
##INFO=<ID=AF,Number=A,Type=Float,Description="f">
##INFO=<ID=RV,Number=R,Type=Integer,Description="r">
##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="q">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
"""


def test_values_of_the_wrong_type_or_count_are_warned_about_with_their_line(
    tmp_path: Path,
) -> None:
    plain = [f"1\t{50 + i}\t.\tA\tG\t50\tPASS\tDP=3;RV=1,2\tGT:AD:DP:GQ\t0/1:3,4:7:99\t0/0:5,0:5:60"
             for i in range(6)]  # fmt: skip
    odd = [
        "1\t100\t.\tA\tG\t50\tPASS\tDP=abc\tGT:AD:DP:GQ\t0/1:3,4,5:12:99\t0/0:3:seven:99.5",
        "1\t101\t.\tA\tG\t50\tPASS\tAF=0.5,0.2;RV=1,2,3\tGT:AD:DP\t0/1:3,4:\u0661\u0662\t0/0:5,0:7.5",
        "1\t102\t.\tA\tG,T\t50\tPASS\tAF=0.5;RV=1,2\tGT:AD:DP\t0/1:3,4:12\t1/2:3,4:7",
    ]
    path = tmp_path / "values.vcf"
    path.write_text(VALUES_HEADER + "\n".join(plain + odd) + "\n")
    general = parse(path, columnar=False, size=10_000)
    assert parse(path, columnar=True, size=10_000)[:4] == general[:4]
    first = len(VALUES_HEADER.splitlines()) + 7
    warned = {w["kind"]: w for w in general[2]}
    assert warned["ad_count"]["lines"] == [first, first + 2]  # 3 values; 2 for 3 alleles
    assert warned["format_not_integer"]["lines"] == [first, first, first + 1]  # per key, record
    assert warned["info_value"]["lines"] == [first, first + 1, first + 2]
    assert warned["info_value"]["message"].startswith("INFO DP=abc is not an Integer")
    calls = {int(c.split("\t")[2]): c.split("\t") for c in general[0]}
    cols = {name: i for i, name in enumerate(CALL_COLUMNS)}
    row = calls[first]
    # DP 'seven' missing; GQ 99.5 rounded; AD with 3 values: no depths, no VAF
    assert row[cols["dp"]] == "{12,NULL}" and row[cols["gq"]] == "{99,100}"
    assert row[cols["ad_alt"]] == "{NULL,NULL}" and row[cols["vaf"]] == "{NULL,NULL}"
    assert calls[first + 1][cols["dp"]] == "{NULL,8}"  # Arabic-Indic digits are not a depth


def test_bytes_that_are_not_utf8_are_warned_about_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.vcf"
    path.write_bytes(VALUES_HEADER.encode() + b"1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\n"
                     b"1\t101\t.\tA\tG\t50\tcaf\xe9\t.\tGT\t0/1\t0/0\n")  # fmt: skip
    general = parse(path, columnar=False, size=10_000)
    (warning,) = [w for w in general[2] if w["kind"] == "not_utf8"]
    assert warning["lines"] == [len(VALUES_HEADER.splitlines()) + 2]
    assert general[3] == 2  # the record is kept, its filter name read with U+FFFD


@pytest.mark.parametrize(
    "declared",
    ["", '##INFO=<ID=END,Number=1,Type=String,Description="e">\n',
     '##INFO=<ID=END,Number=1,Type=Float,Description="e">\n',
     '##INFO=<ID=END,Number=A,Type=Float,Description="e">\n',
     '##INFO=<ID=END,Number=0,Type=Flag,Description="e">\n'],
    ids=["undeclared", "declared-string", "declared-float", "per-alt-float", "flag"],
)  # (typed by a Float or Flag declaration, END=4000 was 4000.0 or True: the file was refused)
def test_end_is_read_as_the_integer_the_specification_reserves(
    tmp_path: Path, declared: str
) -> None:
    # SV callers often leave END out of the header: it is read as a string, yet it is the
    # allele's extent. Declared otherwise, it gets a reserved_field warning.
    header = COORDS_HEADER.replace('##INFO=<ID=END,Number=1,Type=Integer,Description="e">\n',
                                   declared)  # fmt: skip
    path = tmp_path / "sv.vcf"
    path.write_text(header + "1\t3000\t.\tA\t<DEL>\t50\tPASS\tSVTYPE=DEL;END=4000\tGT\t0/1\t0/0\n"
                    "1\t4500\t.\tA\t<DEL>\t50\tPASS\tEND=\uff16\uff11\tGT\t0/1\t0/0\n")  # fmt: skip
    with pytest.raises(VcfMalformed) as caught:  # full-width digits are no integer
        parse(path, columnar=False, size=10_000)
    assert caught.value.line == len(header.splitlines()) + 2
    path.write_text(header + "1\t3000\t.\tA\t<DEL>\t50\tPASS\tSVTYPE=DEL;END=4000\tGT\t0/1\t0/0\n")
    calls, _, warnings, records, _ = parse(path, columnar=False, size=10_000)
    cols = {name: i for i, name in enumerate(CALL_COLUMNS)}
    assert records == 1 and calls[0].split("\t")[cols["end_pos"]] == "4000"
    kinds = {w["kind"] for w in warnings}
    assert ("reserved_field" in kinds) == bool(declared)


def test_nul_and_latin1_bytes_in_the_header_are_read_as_ufffd_with_a_warning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "odd-header.vcf"
    header = VALUES_HEADER.replace('Description="d">', 'Description="d\x00">', 1)
    header = header.replace("\tS2\n", "\tJos\xe9\n")
    path.write_bytes(header.encode("latin-1") + b"1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\n")
    with open_vcf(path) as reader:
        assert reader.header.samples == ["S1", "Jos\ufffd"]
        assert reader.header.info["DP"].description == "d\ufffd"
        warned = [w for w in reader.warnings.as_list() if w["kind"] == "not_utf8"]
    assert warned and warned[0]["lines"] == [3, len(header.splitlines())]


def test_numbers_python_reads_but_vcf_does_not_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "underscore.vcf"
    path.write_text(VALUES_HEADER + "1\t100\t.\tA\tG\t50\tPASS\tDP=1_0;AF=\uff10.5\tGT\t0/1\t0/0\n")
    calls, _, warnings, _, _ = parse(path, columnar=False, size=10_000)
    info = json.loads(calls[0].split("\t")[CALL_COLUMNS.index("info")])
    assert info == {"DP": "1_0", "AF": "\uff10.5"}  # not 10 and 0.5
    assert any(w["kind"] == "info_value" for w in warnings)


def test_a_partial_ad_is_read_without_a_warning(tmp_path: Path) -> None:
    # '5,.' (the ALT's depth unknown) is valid VCF: REF depth kept, no VAF, nothing to say.
    path = tmp_path / "partial.vcf"
    path.write_text(VALUES_HEADER + "1\t100\t.\tA\tG\t50\tPASS\t.\tGT:AD\t0/1:5,.\t0/1:.,3\n")
    calls, _, warnings, _, _ = parse(path, columnar=False, size=10_000)
    row = calls[0].split("\t")
    assert row[CALL_COLUMNS.index("ad_ref")] == "{5,NULL}"
    assert row[CALL_COLUMNS.index("vaf")] == "{NULL,NULL}"
    assert not [w for w in warnings if w["kind"] in ("format_not_integer", "ad_count")]


def test_meta_lines_that_say_nothing_usable_are_warned_about_with_their_line(
    tmp_path: Path,
) -> None:
    header = (
        "##fileformat=VCFv4.2\n"
        "##contig=<ID=1,length=abc>\n"  # 2
        "##contig=<ID=2,length=1000>\n"
        "##contig=<ID=2,length=50>\n"  # 4: declared again, the first kept
        '##INFO=<ID=XX,Number=foo,Type=Bogus,Description="x">\n'  # 5: two warnings
        "##this is not a meta line\n"  # 6
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    path = tmp_path / "meta.vcf"
    path.write_text(header + "2\t100\t.\tA\tG\t50\tPASS\tXX=1,b\tGT\t0/1\n")
    with open_vcf(path) as reader:
        assert reader.header.contigs == {"1": None, "2": 1000}
        assert (reader.header.info["XX"].number, reader.header.info["XX"].type) == (".", "String")
        rows = list(reader.rows())
        (warning,) = [w for w in reader.warnings.as_list() if w["kind"] == "bad_meta_line"]
    assert warning["lines"] == [2, 4, 5, 5, 6]
    assert rows[0].info == {"XX": ["1", "b"]}
    assert not [w for w in reader.warnings.as_list() if w["kind"] == "beyond_contig"]


def test_an_integer_field_holding_another_number_is_text_with_a_warning(tmp_path: Path) -> None:
    # DP=7.5 and DP=1e2 were stored as the numbers 7.5 and 100.0, silently.
    records = [f"1\t{100 + i}\t.\tA\tG\t50\tPASS\tDP={dp}\tGT:AD:DP\t0/1:3,4:7\t0/0:5,0:5"
               for i, dp in enumerate(("7.5", "1e2", "100.0", "nan", "12"))]  # fmt: skip
    path = tmp_path / "ints.vcf"
    path.write_text(VALUES_HEADER + "\n".join(records) + "\n")
    general = parse(path, columnar=False, size=10_000)
    assert parse(path, columnar=True, size=10_000)[:4] == general[:4]
    first = len(VALUES_HEADER.splitlines()) + 1
    cols = {name: i for i, name in enumerate(CALL_COLUMNS)}
    info = {int(c.split("\t")[2]): c.split("\t")[cols["info"]] for c in general[0]}
    assert [info[first + i] for i in range(5)] == [
        '{"DP":"7.5"}', '{"DP":"1e2"}', '{"DP":"100.0"}', "\\N", '{"DP":12}'
    ]
    warned = {w["kind"]: w for w in general[2]}
    assert warned["info_value"]["lines"] == [first, first + 1, first + 2]
    assert warned["info_value"]["message"].startswith("INFO DP=7.5 is not an Integer")
    assert warned["info_not_finite"]["lines"] == [first + 3]


def test_chunks_left_small_by_long_records_go_to_the_general_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from regovar.adapters.vcf.columnar import ColumnarParser

    records = [f"1\t{50 + i}\t.\tA\tG\t50\tPASS\tDP=3\tGT:AD:DP:GQ\t0/1:3,4:7:99\t0/0:5,0:5:60"
               for i in range(6)]  # fmt: skip
    path = tmp_path / "small.vcf"
    path.write_text(VALUES_HEADER + "\n".join(records) + "\n")
    with open_vcf(path) as reader:
        chunk = next(reader.record_chunks(100))
        plan = reader.columnar_plan(False)
        expected = ChunkWork(reader.chunk_parser(), BatchEncoder(7, 37), plan)(chunk)

        def refuse(self: object, chunk: object) -> None:
            raise AssertionError("a chunk under min_columnar reached the columnar parser")

        monkeypatch.setattr(ColumnarParser, "split", refuse)
        small = ChunkWork(reader.chunk_parser(), BatchEncoder(7, 37), plan, min_columnar=7)
        assert small(chunk).batch == expected.batch  # 6 records: the general parser's rows
        with pytest.raises(AssertionError, match="min_columnar"):
            ChunkWork(reader.chunk_parser(), BatchEncoder(7, 37), plan, min_columnar=6)(chunk)


def test_split_vep_entries_and_impacts_in_odd_case_read_alike(tmp_path: Path) -> None:
    # Entries of another line's allele (a file split after VEP) and impacts written in lower
    # case or unknown: both parsers give the same rows (the columnar one leaves what it doubts).
    layout = "Allele|Consequence|IMPACT|SYMBOL|ALLELE_NUM"
    header = VALUES_HEADER.replace(
        "#CHROM", '##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP. Format: '
        f'{layout}">\n#CHROM')  # fmt: skip
    split = "A|missense_variant|MODERATE|GS1|1,T|stop_gained|HIGH|GS2|2"
    records = [f"1\t{1000 + 10 * i}\t.\tC\tA\t50\tPASS\tCSQ={csq}\tGT\t0/1\t0/0"
               for i, csq in enumerate(("A|stop_gained|high|G1|1", "A|missense_variant|SEVERE|G2|1",
                                         "A|intron_variant|MODIFIER|G3|1", split))]  # fmt: skip
    records.append(f"1\t1030\t.\tC\tT\t50\tPASS\tCSQ={split}\tGT\t0/0\t0/1")
    path = tmp_path / "vep.vcf"
    path.write_text(header + "\n".join(records) + "\n")
    general = parse(path, columnar=False, size=10_000)
    for size in (10_000, 3):
        columnar = parse(path, columnar=True, size=size)
        assert columnar[:4] == general[:4]
    assert parse(path, columnar=True, size=10_000)[4] >= 2  # the plain ones, taken columnar
    cols = {name: i for i, name in enumerate(CALL_COLUMNS)}
    impacts = sorted(c.split("\t")[cols["worst_impact"]] for c in general[0])
    assert impacts == ["0", "2", "2", "3", "3"]  # high: HIGH; SEVERE: from missense; T: HIGH


def test_bcsq_entries_of_another_allele_read_alike(tmp_path: Path) -> None:
    layout = "Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"
    header = VALUES_HEADER.replace("#CHROM", '##INFO=<ID=BCSQ,Number=.,Type=String,'
                                   f'Description="Local consequence annotation. Format: {layout}">'
                                   "\n#CHROM")  # fmt: skip
    def bcsq(pos: int) -> str:
        return (f"missense|G1|T1|protein_coding|+|1A>1V|{pos}C>A,"
                f"stop_gained|G1|T1|protein_coding|+|1Q>1*|{pos}C>T")
    records = [f"1\t{p}\t.\tC\t{alt}\t50\tPASS\tBCSQ={bcsq(p)}\tGT\t0/1\t0/0"
               for p, alt in ((1000, "A"), (2000, "T"), (3000, "G"), (4000, "A"))]
    records.append("1\t5000\t.\tC\tA\t50\tPASS\tBCSQ=intron|G2|T2|protein_coding|+||\tGT\t0/1\t0/0")
    path = tmp_path / "bcsq.vcf"
    path.write_text(header + "\n".join(records) + "\n")
    general = parse(path, columnar=False, size=10_000)
    for size in (10_000, 3):
        assert parse(path, columnar=True, size=size)[:4] == general[:4]
    cols = {name: i for i, name in enumerate(CALL_COLUMNS)}
    worst = {c.split("\t")[cols["pos"]]: c.split("\t")[cols["worst_consequence"]]
             for c in general[0]}  # fmt: skip
    # Each line keeps the entry naming its ALT; both entries name other alleles than G's.
    assert worst == {"1000": "missense_variant", "2000": "stop_gained", "3000": "\\N",
                     "4000": "missense_variant", "5000": "intron_variant"}


def test_the_same_odd_info_value_is_warned_about_on_every_record_that_has_it(
    tmp_path: Path,
) -> None:
    # The typed-value memo skipped the check: DP=abc on three lines was said for the first.
    records = [f"1\t{100 + i}\t.\tA\tG\t50\tPASS\tDP=abc;MQ=60\tGT:AD:DP\t0/1:3,4:7\t0/0:5,0:5"
               for i in range(3)]  # fmt: skip
    path = tmp_path / "odd.vcf"
    path.write_text(VALUES_HEADER + "\n".join(records) + "\n")
    general = parse(path, columnar=False, size=10_000)
    assert parse(path, columnar=True, size=10_000)[:4] == general[:4]
    first = len(VALUES_HEADER.splitlines()) + 1
    warned = {w["kind"]: w for w in general[2]}
    assert warned["info_value"]["count"] == 3
    assert warned["info_value"]["lines"] == [first, first + 1, first + 2]


def test_sample_values_under_a_format_without_keys_are_refused(tmp_path: Path) -> None:
    # FORMAT '' or '.' with '0/1' under it: the genotype was read as missing, silently. An
    # INFO item '=5' was stored under the key "".
    for fmt in ("", "."):
        path = tmp_path / "nofmt.vcf"
        path.write_text(VALUES_HEADER + f"1\t100\t.\tA\tG\t50\tPASS\tDP=3\t{fmt}\t0/1\t.\n")
        for columnar in (False, True):
            with pytest.raises(VcfMalformed, match=r"line \d+: sample column '0/1' has values "
                               "but the FORMAT column names no key"):  # fmt: skip
                parse(path, columnar=columnar, size=1000)
    path.write_text(VALUES_HEADER + "1\t100\t.\tA\tG\t50\tPASS\t=5;;DP=3\t.\t.\t.\n")
    general = parse(path, columnar=False, size=1000)
    assert parse(path, columnar=True, size=1000)[:4] == general[:4]
    assert '{"DP":3}' in general[0][0]
    warned = {w["kind"]: w for w in general[2]}
    assert "INFO item '=5' has no key: not stored" in warned["info_value"]["message"]


def test_a_bcsq_consequence_downstream_of_a_stop_counts_on_its_transcript_only(
    tmp_path: Path,
) -> None:
    # '*missense' (bcftools: after a stop on the haplotype, no protein change of its own) made
    # the variant a missense of MODERATE impact: found by --consequence missense and --impact.
    layout = "Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"
    infos = ["BCSQ=*missense|G1|ENST1|protein_coding|+|5A>5T|1000A>G",
             "BCSQ=intron|G2|ENST2|protein_coding,*stop_gained|G2|ENST3|protein_coding"]
    body = [f"1\t{1000 + i}\t.\tA\tG\t50\tPASS\t{infos[i % 2] if i < 2 else '.'}\tGT\t0/1\t0/0"
            for i in range(8)]  # fmt: skip
    path = tmp_path / "star.vcf"
    path.write_text(BCSQ_HEADER.format(layout=layout) + "\n".join(body) + "\n")
    general = parse(path, columnar=False, size=10_000)
    assert parse(path, columnar=True, size=10_000)[:4] == general[:4]
    cols = {name: i for i, name in enumerate(CALL_COLUMNS)}
    rows = {int(c.split("\t")[cols["pos"]]): c.split("\t") for c in general[0]}
    summary = ("genes", "consequences", "worst_consequence", "worst_impact")
    assert [rows[1000][cols[k]] for k in summary] == ['{"G1"}', "{}", "\\N", "\\N"]
    assert [rows[1001][cols[k]] for k in summary] == [
        '{"G2"}', '{"intron_variant"}', "intron_variant", "0"]
    transcripts = [json.loads(line.split("\t")[-1]) for line in general[1]]
    star = [t for entries in transcripts for t in entries if t["feature"] == "ENST3"]
    assert star[0]["consequences"] == ["stop_gained"]
    assert star[0]["extra"]["downstream_of_stop"] == "true"

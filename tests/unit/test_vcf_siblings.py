"""Records of one position (a file split by `bcftools norm -m -`): never hom-ref beside an ALT."""

from __future__ import annotations

from pathlib import Path

from regovar.adapters.vcf import open_vcf
from regovar.adapters.vcf.model import Zygosity as Z

SPLIT = Path(__file__).resolve().parents[1] / "data/vcf/presplit/bcftools-norm-split.vcf"


def _rows():
    with open_vcf(SPLIT) as reader:
        return {f"{r.pos}:{r.ref}>{r.alt}": r for r in reader.rows()}


def test_split_multiallelic_genotypes_are_seen_across_lines():
    rows = _rows()
    # CHILD 1/2 written as 1/0 and 0/1: this ALT and another, in both lines.
    assert rows["1000:C>G"].zyg == [Z.HET_ALT, Z.OTHER_ALT, Z.HET]
    # MOTHER 0/2 written 0/0 in the G line: carries T there, so not hom-ref for G.
    # FATHER 0/1 for G only: 0/0 in the T line is "another ALT", not hom-ref.
    assert rows["1000:C>T"].zyg == [Z.HET_ALT, Z.HET, Z.OTHER_ALT]


def test_split_indels_at_one_position_after_trimming():
    rows = _rows()
    # ATT>A and ATT>AT (AT trimmed to T>... keeps its own key); the mother is 1/1 for the second.
    deletion = rows["2000:ATT>A"]
    assert deletion.zyg == [Z.HET, Z.OTHER_ALT, Z.HOM_REF]
    other = next(r for key, r in rows.items() if key.startswith("2000:") and r is not deletion)
    assert other.zyg == [Z.OTHER_ALT, Z.HOM_ALT, Z.HOM_REF]


def test_a_lone_record_is_unchanged():
    assert _rows()["3000:G>A"].zyg == [Z.HET, Z.HOM_REF, Z.HOM_REF]


def test_chunks_never_cut_a_position():
    with open_vcf(SPLIT) as reader:
        chunks = list(reader.record_chunks(1))
    assert [[line for line, _ in c] for c in chunks] == [[8, 9], [10, 11], [12]]


def test_the_first_chunks_ramp_up_to_the_size():
    from tests.helpers import DEMO_VCF

    with open_vcf(DEMO_VCF) as reader:
        sizes = [len(c) for c in reader.record_chunks(1000, ramp=2)]
    assert sizes[:3] == [250, 500, 1000] and set(sizes[2:-1]) == {1000}
    assert sum(sizes) == 9940


def test_chunks_of_long_records_end_at_their_text_budget(tmp_path):
    """Parsing memory follows the text: a chunk of VEP records with every transcript ends once
    it holds ``max_bytes``, whatever its record count (records of one position kept together)."""
    info = "CSQ=" + ",".join(["T|missense_variant|MODERATE|GENE1"] * 30)  # about 1 kB
    body = [f"1\t{pos}\t.\tA\tG\t50\tPASS\t{info}\tGT\t0/1" for pos in (1, 2, 2, 3, 4, 5, 6)]
    path = tmp_path / "long.vcf"
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\t"
                    "FORMAT\tS1\n" + "\n".join(body) + "\n")  # fmt: skip
    length = len(body[0])
    with open_vcf(path) as reader:
        chunks = list(reader.record_chunks(1000, max_bytes=2 * length))
    # lines 3-9: two records a chunk, and line 5 (position 2 again) with line 4
    assert [[line for line, _ in c] for c in chunks] == [[3, 4, 5], [6, 7], [8, 9]]
    with open_vcf(path) as reader:
        assert [len(c) for c in reader.record_chunks(1000)] == [7]  # no budget: rows only


def _order(chunk_lines: list[tuple[int, str, int]]):
    from regovar.adapters.vcf.siblings import chunk_order

    return chunk_order([(line, f"{chrom}\t{pos}\t.\tA\tG") for line, chrom, pos in chunk_lines])


def test_an_unsorted_file_is_said_once_with_its_first_line_out_of_order():
    from regovar.adapters.vcf import ImportWarnings
    from regovar.adapters.vcf.siblings import OrderWatch

    cases = {
        "sorted": ([[(1, "1", 5), (2, "1", 9)], [(3, "1", 9), (4, "2", 1)], [(5, "X", 3)]], None),
        "back within a chunk": ([[(1, "1", 5), (2, "1", 9), (3, "1", 7)]], (3, "1:7 after 1:9")),
        "back across chunks": ([[(1, "1", 5), (2, "1", 9)], [(3, "1", 8)]], (3, "1:8 after 1:9")),
        "a contig again": ([[(1, "1", 5), (2, "2", 9)], [(3, "3", 1)], [(4, "1", 6)]],
                           (4, "1:6 after 3:1")),
        "again in a chunk": ([[(1, "1", 5), (2, "2", 9), (3, "1", 6), (4, "1", 1)]],
                             (3, "1:6 after 2:9")),
    }  # fmt: skip
    for name, (chunks, expected) in cases.items():
        watch, warnings = OrderWatch(), ImportWarnings()
        for chunk in chunks:
            watch.see(_order(chunk), warnings)
        found = [w for w in warnings.as_list() if w["kind"] == "unsorted"]
        if expected is None:
            assert not found, name
        else:
            (warning,) = found
            assert warning["count"] == 1 and warning["lines"] == [expected[0]], name
            assert expected[1] in warning["message"], name


def test_a_spanning_deletion_on_its_own_line_is_another_allele(tmp_path: Path) -> None:
    # '*' (or <NON_REF>) alone on its line gives no row; its carriers were read hom-ref in the
    # other line of the position, and S1 (2/2 as one record) passed a de novo search as 0/0.
    head = ("##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n")  # fmt: skip
    split = tmp_path / "split.vcf"
    split.write_text(head + "1\t700\t.\tG\t*\t50\tPASS\t.\tGT\t1/1\t0/0\t0/0\n"
                     "1\t700\t.\tG\tC\t50\tPASS\t.\tGT\t0/0\t0/1\t0/0\n"
                     "1\t800\t.\tG\tC\t50\tPASS\t.\tGT\t0/0\t0/1\t0|0\n"
                     "1\t800\t.\tG\t<NON_REF>\t50\tPASS\t.\tGT\t0/0\t0/1\t1|1\n"
                     "1\t900\t.\tG\tC\t50\tPASS\t.\tGT\t0/0\t0/1\t0/0\n")  # fmt: skip
    whole = tmp_path / "whole.vcf"
    whole.write_text(head + "1\t700\t.\tG\tC,*\t50\tPASS\t.\tGT\t2/2\t0/1\t0/0\n")
    for size in (1, 100):  # chunk edges between the lines of a position change nothing
        with open_vcf(split) as reader:
            chunks = list(reader.record_chunks(size))
            parser = reader.chunk_parser()
            rows = {r.pos: r for chunk in chunks for r in parser.parse(chunk)}
        assert rows[700].zyg == [Z.OTHER_ALT, Z.HET, Z.HOM_REF]
        assert rows[800].zyg == [Z.HOM_REF, Z.HET_ALT, Z.OTHER_ALT]
        assert rows[900].zyg == [Z.HOM_REF, Z.HET, Z.HOM_REF]  # the next position: unaffected
    with open_vcf(whole) as reader:
        assert [r.zyg for r in reader.rows()] == [rows[700].zyg]


def test_a_spanning_deletion_line_s_depth_counts_in_the_vaf(tmp_path: Path) -> None:
    # S2 is C/* written 1/0 AD 0,8 (C) and 0/1 AD 0,12 ('*', no row): its VAF for C read 1.0,
    # where the one-record form gives 8/20.
    head = ("##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
            "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"d\">\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n")  # fmt: skip
    split = tmp_path / "split.vcf"
    split.write_text(head + "1\t700\t.\tG\tC\t50\tPASS\t.\tGT:AD\t0/1:10,20\t1/0:0,8\n"
                     "1\t700\t.\tG\t*\t50\tPASS\t.\tGT:AD\t0/0:10,5\t0/1:0,12\n")  # fmt: skip
    whole = tmp_path / "whole.vcf"
    whole.write_text(head + "1\t700\t.\tG\tC,*\t50\tPASS\t.\tGT:AD\t0/1:10,20,5\t1/2:0,8,12\n")
    for path in (split, whole):
        with open_vcf(path) as reader:
            (row,) = list(reader.rows())
        assert row.vaf == [20 / 35, 8 / 20], path.name

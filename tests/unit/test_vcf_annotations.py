"""Annotation parsing (VEP CSQ, SnpEff ANN/EFF, bcftools BCSQ) and the SO consequence table."""

from __future__ import annotations

from pathlib import Path

from regovar.adapters.vcf.annotations import vep_allele_keys
from regovar.adapters.vcf.consequences import (
    IMPACT_ORDER,
    impact_of,
    worst_consequence,
    worst_impact,
)
from tests.unit.test_vcf_helpers import HEADER, read, tabs, write_vcf

CSQ = ('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
       'VEP. Format: {}">\n')


def _csq_file(tmp_path: Path, layout: str, ref: str, alts: str, csq: str) -> Path:
    header = '##VEP="v110" cache="/data/vep/110_GRCh38" assembly="GRCh38.p13"\n' + HEADER
    body = f"1\t100\t.\t{ref}\t{alts}\t50\tPASS\tCSQ={csq}\tGT\t0/1\t0/1\t0/1\n"
    return write_vcf(tmp_path, body, header=header + CSQ.format(layout))


def test_vep_default_allele_convention_for_indels(tmp_path: Path) -> None:
    csq = ("-|frameshift_variant|HIGH|GENE1|ENSG1|Transcript|ENST1|protein_coding,"
           "T|inframe_insertion|MODERATE|GENE1|ENSG1|Transcript|ENST1|protein_coding")
    path = _csq_file(tmp_path, "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|"
                     "BIOTYPE", "CT", "C,CTT", csq)
    reader, rows = read(path)
    deletion, insertion = rows
    assert [a.consequences for a in deletion.annotations] == [["frameshift_variant"]]
    assert [a.consequences for a in insertion.annotations] == [["inframe_insertion"]]
    a = deletion.annotations[0]
    assert (a.source, a.gene, a.gene_id, a.feature, a.biotype, a.impact) == (
        "CSQ", "GENE1", "ENSG1", "ENST1", "protein_coding", "HIGH")
    assert a.extra == {"Allele": "-", "Feature_type": "Transcript"}
    assert reader.header.annotation_release == "VEP 110 (cache 110_GRCh38, GRCh38.p13)"


def test_vep_allele_num_wins_over_allele(tmp_path: Path) -> None:
    csq = ("A|missense_variant|2,A|synonymous_variant|1")
    path = _csq_file(tmp_path, "Allele|Consequence|ALLELE_NUM", "G", "A,T", csq)
    _, rows = read(path)
    a_row, t_row = rows
    assert [x.consequences for x in a_row.annotations] == [["synonymous_variant"]]
    assert [x.consequences for x in t_row.annotations] == [["missense_variant"]]
    assert t_row.annotations[0].impact == "MODERATE"  # no IMPACT field: from the SO table


def test_vep_keys_cover_default_minimal_and_as_written() -> None:
    keys = vep_allele_keys("CAA", ["C", "CA", "CAAA", "*"])
    assert keys["-"] == 1 and keys["A"] == 2 and keys["AAA"] == 3 and keys["*"] == 4
    assert keys["CA"] == 2  # as written also accepted
    assert vep_allele_keys("C", ["T", "G"]) == {"T": 1, "G": 2}


def test_vep_minimal_alleles(tmp_path: Path) -> None:
    # --minimal: each ALT trimmed against REF on its own: CTT>C is 'TT' deleted ('-'), CTT>ATT
    # is 'A'.
    csq = "A|missense_variant|MODERATE,-|frameshift_variant|HIGH"
    path = _csq_file(tmp_path, "Allele|Consequence|IMPACT", "CTT", "C,ATT", csq)
    _, rows = read(path)
    deletion, snv = rows
    assert (snv.pos, snv.ref, snv.alt) == (100, "C", "A")
    assert [a.impact for a in snv.annotations] == ["MODERATE"]
    assert [a.impact for a in deletion.annotations] == ["HIGH"]


def test_vep_percent_decoding_and_empty_fields(tmp_path: Path) -> None:
    csq = "T|synonymous_variant|LOW||ENSP1.1:p.Ala12%3D|a%3Bb%2Cc%7Cd%25"
    path = _csq_file(tmp_path, "Allele|Consequence|IMPACT|SYMBOL|HGVSp|NOTE", "C", "T", csq)
    _, rows = read(path)
    (a,) = rows[0].annotations
    assert (a.gene, a.hgvsp, a.extra["NOTE"]) == (None, "ENSP1.1:p.Ala12=", "a;b,c|d%")


def test_vep_structural_variant_allele_name(tmp_path: Path) -> None:
    csq = "deletion|transcript_ablation|HIGH|GENE9"
    path = _csq_file(tmp_path, "Allele|Consequence|IMPACT|SYMBOL", "N", "<DEL>", csq)
    _, rows = read(path)
    assert [a.gene for a in rows[0].annotations] == ["GENE9"]


ANN = ('##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: \'Allele | '
       'Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | '
       'Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / '
       'CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO\' ">\n')


def test_snpeff_ann_matches_alt_as_written_for_indels(tmp_path: Path) -> None:
    ann = ("CAT|inframe_insertion|MODERATE|G2|G2|transcript|T1|protein_coding|2/5|c.5_6insAT|"
           "p.X|||||INFO_REALIGN_3_PRIME&WARNING_REF_DOES_NOT_MATCH_GENOME,"
           "C|frameshift_variant|HIGH|G2|G2|transcript|T1|protein_coding|2/5|c.5del||||||,"
           "CTG|missense_variant|MODERATE|G2|G2|transcript|T1|protein_coding|||||||")
    body = f"1\t100\t.\tCA\tCAT,C\t50\tPASS\tANN={ann}\tGT\t0/1\t0/2\t1/2\n"
    reader, rows = read(write_vcf(tmp_path, body, header=HEADER + ANN))
    ins, dele = rows
    (a,) = ins.annotations
    assert (a.source, a.consequences, a.impact, a.hgvsc, a.hgvsp) == (
        "ANN", ["inframe_insertion"], "MODERATE", "c.5_6insAT", "p.X")
    assert a.warnings == ["INFO_REALIGN_3_PRIME", "WARNING_REF_DOES_NOT_MATCH_GENOME"]
    assert (a.gene, a.gene_id, a.feature, a.biotype, a.extra["Rank"]) == (
        "G2", "G2", "T1", "protein_coding", "2/5")
    assert [x.impact for x in dele.annotations] == ["HIGH"]
    assert reader.warnings.count("ann_allele_unmatched") == 1  # the CTG entry


EFF = ('##INFO=<ID=EFF,Number=.,Type=String,Description="Predicted effects for this variant.'
       'Format: \'Effect ( Effect_Impact | Functional_Class | Codon_Change | Amino_Acid_Change| '
       'Amino_Acid_Length | Gene_Name | Transcript_BioType | Gene_Coding | Transcript_ID | '
       'Exon_Rank  | Genotype_Number [ | ERRORS | WARNINGS ] )\' ">\n'
       '##SnpEffVersion="3.6c (build 2014-05-20), by Pablo Cingolani"\n'
       '##SnpEffCmd="SnpEff  -noStats GRCh37.75 in.vcf "\n')


def test_snpeff_eff_old_names_and_genotype_number(tmp_path: Path) -> None:
    eff = ("NON_SYNONYMOUS_CODING(MODERATE|MISSENSE|gGt/gAt|p.Gly12Asp/c.35G>A|189|KRAS|"
           "protein_coding|CODING|ENST00000256078|2|2),"
           "SPLICE_SITE_REGION+SYNONYMOUS_CODING(LOW|SILENT|ggC/ggT|G13|189|KRAS|"
           "protein_coding|CODING|ENST00000256078|2|1|WARNING_TRANSCRIPT_NO_START_CODON),"
           "UPSTREAM(MODIFIER|||||MIR1|miRNA|NON_CODING|ENST1||1)")
    body = f"1\t100\t.\tC\tT,A\t50\tPASS\tEFF={eff}\tGT\t0/1\t0/2\t0/0\n"
    reader, rows = read(write_vcf(tmp_path, body, header=HEADER + EFF))
    t, a = rows
    (missense,) = a.annotations
    assert (missense.source, missense.consequences, missense.impact) == (
        "EFF", ["missense_variant"], "MODERATE")
    assert (missense.hgvsp, missense.hgvsc, missense.gene, missense.feature) == (
        "p.Gly12Asp", "c.35G>A", "KRAS", "ENST00000256078")
    assert missense.extra["effect"] == "NON_SYNONYMOUS_CODING"
    syn, upstream = t.annotations
    assert syn.consequences == ["splice_region_variant", "synonymous_variant"]
    assert syn.warnings == ["WARNING_TRANSCRIPT_NO_START_CODON"]
    assert (upstream.consequences, upstream.gene, upstream.biotype) == (
        ["upstream_gene_variant"], "MIR1", "miRNA")
    assert reader.header.annotation_release == "SnpEff 3.6c (build 2014-05-20) GRCh37.75"


BCSQ = ('##INFO=<ID=BCSQ,Number=.,Type=String,Description="Local consequence annotation from '
        'BCFtools/csq. Format: \'[*]consequence|gene|transcript|biotype[|strand|'
        'amino_acid_change|dna_change]\' or, for consequences of variants split across multiple '
        'sites, a pointer to the record storing the consequences \'@position\'. \'*\' prefix '
        'indicates a consequence downstream from a stop">\n'
        '##FORMAT=<ID=BCSQ,Number=.,Type=Integer,Description="Bitmask of indexes to INFO/BCSQ">\n'
        '##bcftools_csqVersion=1.17+htslib-1.17\n'
        '##bcftools_csqCommand=csq -f ref.fa -g genes.gff3.gz in.vcf\n')


def test_bcsq_without_bitmask_goes_to_the_alt_its_change_names(tmp_path: Path) -> None:
    # A substitution at the record's position names its ALT (100C>T): G once got T's
    # consequences too; an entry that names none (no dna_change) goes to every ALT.
    bcsq = ("missense&splice_region|GENE3|ENST3|protein_coding|+|5P>5L|100C>T,"
            "@90,*stop_lost|GENE3|ENST4|protein_coding|+|9*>9W|100C>T,"
            "non_coding|LINC1||lincRNA")
    body = f"1\t100\t.\tC\tT,G\t50\tPASS\tBCSQ={bcsq}\tGT\t0/1\t0/2\t1/2\n"
    reader, rows = read(write_vcf(tmp_path, body, header=HEADER + BCSQ))
    assert [a.consequences for a in rows[0].annotations] == [
        ["missense_variant", "splice_region_variant"], ["stop_lost"],
        ["non_coding_transcript_variant"]]
    assert [a.consequences for a in rows[1].annotations] == [["non_coding_transcript_variant"]]
    first, stop, lnc = rows[0].annotations
    assert (first.source, first.gene, first.feature, first.biotype, first.impact) == (
        "BCSQ", "GENE3", "ENST3", "protein_coding", "MODERATE")
    assert first.extra == {"strand": "+", "amino_acid_change": "5P>5L", "dna_change": "100C>T"}
    assert stop.extra["downstream_of_stop"] == "true" and stop.impact == "HIGH"
    assert (lnc.feature, lnc.impact) == (None, "MODIFIER")
    assert rows[0].annotations[2] is not rows[1].annotations[0]
    assert reader.header.annotation_release == "bcftools csq 1.17+htslib-1.17 (genes.gff3.gz)"


def test_bcsq_bitmask_picks_the_alt_of_each_haplotype(tmp_path: Path) -> None:
    # Consequence 0 (bits 0/1) is on S1's second haplotype (allele 2 = G); consequence 1
    # (bits 2/3) on S2's first haplotype (allele 1 = T).
    bcsq = "missense|G1|T1|protein_coding|+|1A>1V|100C>G,stop_gained|G1|T1|protein_coding"
    body = (f"1\t100\t.\tC\tT,G\t50\tPASS\tBCSQ={bcsq}\tGT:BCSQ\t0|2:2\t1|0:4\t0|0:0\n")
    _, rows = read(write_vcf(tmp_path, body, header=HEADER + BCSQ))
    t, g = rows
    assert [a.consequences for a in t.annotations] == [["stop_gained"]]
    assert [a.consequences for a in g.annotations] == [["missense_variant"]]


def test_consequence_table() -> None:
    assert IMPACT_ORDER == ("HIGH", "MODERATE", "LOW", "MODIFIER")
    assert impact_of("stop_gained") == "HIGH"
    assert impact_of("missense_variant") == "MODERATE"
    assert impact_of("splice_region_variant") == "LOW"
    assert impact_of("intron_variant") == "MODIFIER"
    assert impact_of("regulatory_region_ablation") == "MODERATE"
    assert impact_of("made_up_variant") is None
    assert worst_consequence(["intron_variant", "missense_variant", "made_up"]) == (
        "missense_variant")
    assert worst_consequence(["made_up", "synonymous_variant"]) == "synonymous_variant"
    assert worst_consequence(["made_up"]) == "made_up"
    assert worst_consequence([]) is None
    assert worst_impact(["LOW", None, "BOGUS", "MODERATE"]) == "MODERATE"
    assert worst_impact([None]) is None


def test_records_without_annotations_and_layout_sub_fields(tmp_path: Path) -> None:
    path = _csq_file(tmp_path, "Allele|Consequence", "C", "T", "T|intron_variant")
    reader, rows = read(path)
    assert reader.header.annotation_fields == {"CSQ": ["Allele", "Consequence"]}
    assert rows[0].annotations[0].impact == "MODIFIER"
    assert "CSQ" not in rows[0].info
    _, plain = read(write_vcf(tmp_path, tabs("1 5 . A G 1 PASS . GT 0/1 0/1 0/1"), name="p.vcf"))
    assert plain[0].annotations == []


def test_vep_names_symbolic_alleles_by_type_in_multiallelic_records(tmp_path: Path) -> None:
    csq = "duplication|transcript_amplification|HIGH|G1,deletion|transcript_ablation|HIGH|G2"
    path = _csq_file(tmp_path, "Allele|Consequence|IMPACT|SYMBOL", "N", "<DEL>,<DUP:TANDEM>", csq)
    _, rows = read(path)
    assert [[a.gene for a in r.annotations] for r in rows] == [["G2"], ["G1"]]


def test_a_file_split_after_vep_keeps_each_allele_s_entries(tmp_path: Path) -> None:
    # bcftools norm -m - copies the whole CSQ to each line: ALLELE_NUM 1 gave C>T the entry of
    # C>A, and C>T's own stop_gained (numbered 2) was dropped: --impact HIGH missed it.
    csq = "A|missense_variant|MODERATE|GS1|1,T|stop_gained|HIGH|GS2|2"
    layout = "Allele|Consequence|IMPACT|SYMBOL|ALLELE_NUM"
    header = HEADER + CSQ.format(layout)
    body = (f"1\t1000\t.\tC\tA\t50\tPASS\tCSQ={csq}\tGT\t0/1\t0/0\t0/0\n"
            f"1\t1000\t.\tC\tT\t50\tPASS\tCSQ={csq}\tGT\t0/0\t0/1\t0/0\n")  # fmt: skip
    reader, rows = read(write_vcf(tmp_path, body, header=header))
    by_alt = {r.alt: [(a.gene, a.consequences, a.impact) for a in r.annotations] for r in rows}
    assert by_alt == {"A": [("GS1", ["missense_variant"], "MODERATE")],
                      "T": [("GS2", ["stop_gained"], "HIGH")]}  # fmt: skip
    warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert warned["csq_allele_unmatched"]["count"] == 2  # each line: the other's entry


def test_an_impact_in_lower_case_or_unknown_is_read_or_left_to_the_terms(tmp_path: Path) -> None:
    # 'high' left the variant without an impact (--impact HIGH missed it); an unknown word did
    # the same whatever its terms said.
    csq = "T|stop_gained|high|G1,T|missense_variant|SEVERE|G2"
    path = _csq_file(tmp_path, "Allele|Consequence|IMPACT|SYMBOL", "C", "T", csq)
    _, (row,) = read(path)
    assert [a.impact for a in row.annotations] == ["HIGH", "MODERATE"]


def test_eff_written_with_so_terms_keeps_them(tmp_path: Path) -> None:
    # Newer SnpEff writes SO terms in EFF: they were lower-cased ('5_prime_utr_variant'), which
    # no consequence filter matched.
    eff = ("5_prime_UTR_variant(MODIFIER||||189|KRAS|protein_coding|CODING|ENST1|1|1),"
           "NMD_transcript_variant(MODIFIER||||189|KRAS|protein_coding|CODING|ENST2|1|1)")
    body = f"1\t100\t.\tC\tT\t50\tPASS\tEFF={eff}\tGT\t0/1\t0/0\t0/0\n"
    _, (row,) = read(write_vcf(tmp_path, body, header=HEADER + EFF))
    assert [a.consequences for a in row.annotations] == [
        ["5_prime_UTR_variant"], ["NMD_transcript_variant"]]


def test_bcsq_of_another_line_s_allele_is_dropped(tmp_path: Path) -> None:
    # Without bitmasks, C>A got C>T's stop_gained (--impact HIGH returned it); in a file split
    # after bcftools csq each line carries both entries: the other line's is dropped, said.
    bcsq = ("missense|G1|T1|protein_coding|+|1A>1V|1000C>A,"
            "stop_gained|G1|T1|protein_coding|+|1Q>1*|1000C>T")
    body = (f"1\t1000\t.\tC\tA,T\t50\tPASS\tBCSQ={bcsq}\tGT\t0/1\t0/2\t0/0\n"
            f"1\t2000\t.\tC\tT\t50\tPASS\tBCSQ={bcsq.replace('1000', '2000')}\tGT\t0/1\t0/0\t0/0\n")
    reader, rows = read(write_vcf(tmp_path, body, header=HEADER + BCSQ))
    got = {(r.pos, r.alt): [(a.consequences, a.impact) for a in r.annotations] for r in rows}
    assert got == {(1000, "A"): [(["missense_variant"], "MODERATE")],
                   (1000, "T"): [(["stop_gained"], "HIGH")],
                   (2000, "T"): [(["stop_gained"], "HIGH")]}
    warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert warned["bcsq_allele_unmatched"]["lines"] == [rows[-1].line]  # C>A's entry


def test_an_allele_number_naming_no_alt_is_read_by_its_allele_or_warned(tmp_path: Path) -> None:
    # ALLELE_NUM 0 or beyond the last ALT, or an EFF genotype number so, was dropped without
    # a word; ALLELE_NUM 0 even when its Allele named the ALT plainly.
    csq = "T|missense_variant|0,A|stop_gained|5,deletion|intron_variant|3"
    path = _csq_file(tmp_path, "Allele|Consequence|ALLELE_NUM", "G", "A,T", csq)
    reader, (a_row, t_row) = read(path)
    assert [x.consequences for x in a_row.annotations] == [["stop_gained"]]
    assert [x.consequences for x in t_row.annotations] == [["missense_variant"]]
    warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert warned["csq_allele_unmatched"]["count"] == 1  # 'deletion', numbered 3: none
    eff = ("missense_variant(MODERATE||||189|KRAS|protein_coding|CODING|ENST1|1|1),"
           "stop_gained(HIGH||||189|KRAS|protein_coding|CODING|ENST2|1|2)")
    body = f"1\t100\t.\tC\tT\t50\tPASS\tEFF={eff}\tGT\t0/1\t0/0\t0/0\n"
    reader, (row,) = read(write_vcf(tmp_path, body, header=HEADER + EFF))
    assert [a.consequences for a in row.annotations] == [["missense_variant"]]
    warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert warned["eff_allele_unmatched"]["count"] == 1


def test_bcsq_entry_no_haplotype_carries_goes_by_its_change(tmp_path: Path) -> None:
    # S1 lacks its bitmask ('.') and S2's has no bit for entry 1 (C>G's stop_gained): that
    # entry went to every ALT, so C>T carried a stop_gained (--impact HIGH returned it).
    bcsq = ("missense|G1|T1|protein_coding|+|1A>1V|100C>T,"
            "stop_gained|G1|T1|protein_coding|+|1Q>1*|100C>G,"
            "intron|G1|T1|protein_coding")
    body = f"1\t100\t.\tC\tT,G\t50\tPASS\tBCSQ={bcsq}\tGT:BCSQ\t0|2:.\t1|0:1\t0|0:0\n"
    _, (t, g) = read(write_vcf(tmp_path, body, header=HEADER + BCSQ))
    assert [a.consequences for a in t.annotations] == [["missense_variant"], ["intron_variant"]]
    assert [a.consequences for a in g.annotations] == [["stop_gained"], ["intron_variant"]]
    assert [a.impact for a in t.annotations] == ["MODERATE", "MODIFIER"]

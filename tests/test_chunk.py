from finrag.ingest.chunk import FilingChunker, WordPieceCounter, dense_view
from finrag.records import ChunkKind, DocType, Filing, Page, Table

FILING = Filing(company="Northwind Robotics, Inc.", doc_type=DocType.TEN_K, fiscal_year=2023)
PROSE = "Item 7. Management's Discussion and Analysis of Financial Condition\n" + " ".join(
    f"Revenue grew in segment {i} because demand for industrial robots rose sharply." for i in range(60)
)
CASH_FLOW = Page(
    number=4,
    text="Consolidated Statements of Cash Flows\n(In millions)\n2023 2022\nNet income 512 430\n",
    tables=[
        Table(
            title="Consolidated Statements of Cash Flows",
            header=["(In millions)", "2023 2022"],
            rows=[f"Line item number {i} {i * 10} {i * 9}" for i in range(80)],
        )
    ],
)


def test_children_fit_the_model_and_point_to_their_page() -> None:
    counter = WordPieceCounter()
    chunker = FilingChunker(max_tokens=120, counter=counter)
    chunks = chunker.chunk("d1", "t1", "NW_2023_10K", FILING, [Page(3, PROSE), CASH_FLOW])
    parents = [c for c in chunks if c.kind == ChunkKind.PAGE]
    children = [c for c in chunks if c.kind != ChunkKind.PAGE]
    assert [p.page_start for p in parents] == [3, 4]
    assert len(children) > 4
    by_id = {p.id: p for p in parents}
    for c in children:
        assert counter(c.index_text) <= 120, c.index_text
        assert by_id[c.parent_id].page_start == c.page_start
        assert c.metadata["fiscal_year"] == 2023 and c.metadata["doc_name"] == "NW_2023_10K"
    # Nothing of the prose is lost between passages.
    prose = " ".join(c.text for c in children if c.page_start == 3)
    assert prose.count("industrial robots") == 60


def test_tables_repeat_title_and_headers_in_every_block() -> None:
    chunks = FilingChunker(max_tokens=100).chunk("d1", "t1", "NW", FILING, [CASH_FLOW])
    tables = [c for c in chunks if c.kind == ChunkKind.TABLE]
    assert len(tables) > 2
    for t in tables:
        assert t.text.startswith("Consolidated Statements of Cash Flows\n(In millions)\n2023 2022")
    rows = [line for t in tables for line in t.text.split("\n")[3:]]
    assert rows == CASH_FLOW.tables[0].rows


def test_prefix_section_and_ids_are_stable() -> None:
    chunker = FilingChunker(max_tokens=200)
    a = chunker.chunk("d1", "t1", "NW", FILING, [Page(3, PROSE), Page(4, "More discussion of liquidity here. " * 5)])
    b = chunker.chunk("d1", "t1", "NW", FILING, [Page(3, PROSE), Page(4, "More discussion of liquidity here. " * 5)])
    assert [c.id for c in a] == [c.id for c in b]
    other_tenant = chunker.chunk("d1", "t2", "NW", FILING, [Page(3, PROSE)])
    assert not {c.id for c in other_tenant} & {c.id for c in a}
    child = next(c for c in a if c.kind == ChunkKind.PASSAGE and c.page_start == 4)
    # The section heading seen on page 3 carries over to page 4.
    assert child.section.startswith("Item 7.")
    assert child.index_text.startswith("Northwind Robotics, Inc. | 10-K | FY2023 | Item 7.")


def test_dense_view_drops_numeric_cells_only() -> None:
    assert dense_view("Net sales $ 34,229 $ 35,355 (1,577) 12.4%") == "Net sales"
    assert dense_view("Revenue grew 5% in 2022") == "Revenue grew in"


def test_a_page_without_a_stated_scale_carries_the_one_it_inherits() -> None:
    continued = Page(5, "Consolidated Statements of Cash Flows (continued)\nDividends paid 120 110\n")
    chunks = FilingChunker(max_tokens=240).chunk("d1", "t1", "NW_2023_10K", FILING, [CASH_FLOW, continued])
    parents = {c.page_start: c for c in chunks if c.kind == ChunkKind.PAGE}
    assert parents[4].text == CASH_FLOW.text  # states its own scale: unchanged
    assert parents[5].text.startswith(continued.text)
    assert "in millions" in parents[5].text.split("\n")[-1]
    # children (what is embedded) keep the page's own words only
    assert all("unless stated otherwise" not in c.text for c in chunks if c.kind != ChunkKind.PAGE)


def test_word_piece_counts_are_the_tokenizers_own(sample_dir) -> None:
    """The counter sums cached per-word counts; it must give what the tokenizer gives for the whole text,
    control characters, odd spaces, accents, CJK and over-long words included."""
    from tokenizers import Tokenizer

    from finrag.ingest.chunk import _packaged_tokenizer_path
    from finrag.ingest.parse import PdfiumParser

    tok = Tokenizer.from_file(str(_packaged_tokenizer_path()))
    tok.no_truncation()
    tok.no_padding()  # MiniLM's tokenizer.json pads to 128
    texts = ["", "  ", "a\x0cb", "a \x0c b", "a\x1cb c", "x\u200by", "soft\u00adhyphen", "a\u00a0b\u2028c\u3000d"]
    texts += ["naïve café", "e\u0301", "東京タワー is tall", "\ufeffBOM", "a" * 150 + " b", "$1,234.56 (7,890)"]
    texts.append("🙂 ok")
    pdf = sorted(sample_dir.glob("*.pdf"))[0]
    for page in PdfiumParser().parse(pdf):
        texts += [page.text, *page.text.split("\n")]
    counter = WordPieceCounter()
    for text in texts * 2:  # the second pass reads the word cache
        assert counter(text) == len(tok.encode(text).ids), repr(text[:80])


def test_a_tokenizer_that_is_not_bert_wordpiece_is_counted_whole(tmp_path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()  # spaces belong to the next piece: words do not add up
    tok.train_from_iterator([PROSE] * 5, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    counter = WordPieceCounter(path)
    for text in (PROSE, "Revenue  grew\n\nsharply", " leading space"):
        assert counter(text) == len(tok.encode(text).ids)

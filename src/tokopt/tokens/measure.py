"""Count sources: stream every file once, in segments, through each needed encoding."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from tokopt import inputs, tokens
from tokopt.inputs import EncodingErrors, Source
from tokopt.costing.report import TextCount


def count_sources(
    sources: Sequence[Source],
    encodings: Sequence[str],
    *,
    errors: EncodingErrors = "strict",
    on_bytes: Callable[[int], None] | None = None,
) -> list[TextCount]:
    """Characters, bytes and exact tokens per encoding for each source, in order.

    All sources feed one pool of counting threads, so a directory of small files is counted
    in parallel as well as one large file.
    """
    chars = [0] * len(sources)
    nbytes = [0] * len(sources)

    def segments() -> Iterator[tuple[int, str]]:
        for index, source in enumerate(sources):

            def seen(n: int, index: int = index) -> None:
                nbytes[index] += n
                if on_bytes is not None:
                    on_bytes(n)

            yield index, ""  # so that an empty file still gets its (zero) counts
            for segment in tokens.resegment(inputs.read_blocks(source, errors=errors, on_bytes=seen)):
                chars[index] += len(segment)
                yield index, segment

    # File sizes in bytes bound the characters from above; stdin and pipes are of unknown size.
    known = None if any(s.size is None for s in sources) else sum(s.size or 0 for s in sources)
    counted = tokens.count_keyed(segments(), encodings, expected_chars=known)
    return [
        TextCount(source=source.label, chars=chars[i], bytes=nbytes[i], tokens=counted[i])
        for i, source in enumerate(sources)
    ]


def count_text(label: str, text: str, encodings: Sequence[str]) -> TextCount:
    """Counts for a text already in memory."""
    return TextCount(
        source=label,
        chars=len(text),
        bytes=len(text.encode("utf-8", "surrogatepass")),
        tokens=tokens.count_all(text, encodings),
    )

#!/usr/bin/env python3
"""Regenerate the seed corpora of the JSON-document fuzz targets from the
project's own tests and docs: every C string literal (adjacent literals
joined) that starts with "{" and contains a key word of the target becomes
one seed file named after its SHA-1, as libFuzzer names corpus files.
Valid and invalid documents are both kept: the tests use both.
    tests/fuzz/make_json_seeds.py
"""
import hashlib
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# target: (files to read, words one of which a document must contain)
TARGETS = {
    "gate_policy": (["tests/registry/test_alias.c", "tests/train/test_register.c", "docs/registry.md",
                     "examples/demo/demo.c"], ['"rules"', '"rule"']),
    "view_def": (["tests/features/test_fs_defs.c", "tests/features/fs_fixture.h", "tests/features/test_fs_ingest.c",
                  "tests/features/test_fs_join.c", "docs/features.md"], ['"entity"', '"keys"']),
    "router_settings": (["tests/serve/test_router.c", "tests/serve/test_drift_monitor.c",
                         "tests/serve/test_reload_stress.c", "tests/serve/test_serve_metrics.c", "docs/serving.md"],
                        ['"champion"', '"challenger"', '"mode"', '"reload_interval_ms"', '"drift"', '"outcomes"',
                         '"session"', '"salt"', '"share"']),
    "json_config": (["tests/drift/test_profile.c", "tests/drift/test_report.c", "tests/infer/test_session.c",
                     "tests/registry/test_version.c", "tests/train/test_metrics.c", "docs/drift.md"],
                    ['"quantile_k"', '"columns"', '"precision"', '"correction"', '"alpha"', '"metric"', '"tags"',
                     '"metadata"', '"zstd_level"', '"bootstrap"', '"limit"', '"isa"', '"hll_bits"']),
    "train_settings": (["tests/train/test_trainer.c", "tests/train/test_export.c", "tests/train/test_register.c",
                        "docs/training.md"], ['"label"', '"features"', '"model"', '"epochs"']),
}

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def unescape(text):
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def c_documents(source):
    """Each run of adjacent string literals (only blanks between them), joined."""
    docs, pos = [], 0
    while True:
        match = LITERAL.search(source, pos)
        if not match:
            return docs
        parts, end = [match.group(1)], match.end()
        while True:
            gap = re.match(r"(?:\s|\\\n)*", source[end:]).end()  # blanks and macro line continuations
            nxt = LITERAL.match(source, end + gap)
            if not nxt:
                break
            parts.append(nxt.group(1))
            end = nxt.end()
        docs.append(unescape("".join(parts)))
        pos = end


def markdown_documents(source):
    """JSON blocks of a Markdown page, and the C literals of its code blocks."""
    docs = re.findall(r"```json\n(.*?)```", source, re.S)
    for block in re.findall(r"```c\n(.*?)```", source, re.S):
        docs.extend(c_documents(block))
    return docs


def main():
    for target, (files, words) in TARGETS.items():
        out = os.path.join(ROOT, "tests", "fuzz", "corpus", target)
        os.makedirs(out, exist_ok=True)
        seen = 0
        for name in files:
            path = os.path.join(ROOT, name)
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as f:
                source = f.read()
            docs = markdown_documents(source) if name.endswith(".md") else c_documents(source)
            for doc in docs:
                doc = doc.strip()
                if not doc.startswith("{") or not any(w in doc for w in words):
                    continue
                data = doc.encode("utf-8")
                with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
                    f.write(data)
                seen += 1
        print(f"{target}: {seen} documents, {len(os.listdir(out))} files")


if __name__ == "__main__":
    main()
